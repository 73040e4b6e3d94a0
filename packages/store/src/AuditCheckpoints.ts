/**
 * Signed checkpoints of the audit log, stored apart from it (threat AT-01): a JSON Lines file, by default
 * `<dataDir>/audit/checkpoints.jsonl`, one `{ seq, hash, ts, kid, sig }` object a line, appended every
 * `every` records and when the broker shuts down. A checkpoint pins the log's head at that moment, so a
 * truncated tail (the checkpoint's `seq` is past the log's end) or a rewritten history (the record at the
 * checkpoint's `seq` no longer has its `hash`) is found even when the rewritten chain is self-consistent.
 *
 * Signatures are Ed25519 (RFC 8032) under a key derived with HKDF-SHA256 (RFC 5869) from a 32-byte broker
 * secret (the master key): only the broker, which holds that secret in memory, can sign; the key never
 * crosses to a tenant worker. The signed bytes are the canonical JSON (see `AuditChain.canonicalJson`) of
 * `{ ctx: "cordon-audit-checkpoint/v1", seq, hash, ts, kid }`; `sig` is base64url.
 *
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, verify } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { canonicalJson } from "./AuditChain.js"
import { AuditLog, type AuditLogService } from "./AuditLog.js"
import { AuditUnavailableError } from "./Errors.js"
import { EpochMillis, Sha256Hex } from "./Model.js"

/** Domain-separation string inside every signed checkpoint payload. */
export const CHECKPOINT_CONTEXT = "cordon-audit-checkpoint/v1"

/** Default number of records between two checkpoints. */
export const DEFAULT_CHECKPOINT_EVERY = 100

/** One signed checkpoint: the log's head (`seq`, `hash`) at `ts` (epoch ms), signed by key `kid`. */
export const Checkpoint = Schema.Struct({
  seq: Schema.Int.pipe(Schema.positive()),
  hash: Sha256Hex,
  ts: EpochMillis,
  kid: Schema.String,
  sig: Schema.String
})
export type Checkpoint = typeof Checkpoint.Type

/** Signs and verifies checkpoints. Holds the private key; never hand it to a worker. */
export interface CheckpointKey {
  /** First 16 hex characters of SHA-256 over the raw 32-byte public key. */
  readonly kid: string
  /** The public key as an OKP JWK (`crv: "Ed25519"`), for verifiers that do not hold the secret. */
  readonly publicJwk: { readonly kty: string; readonly crv: string; readonly x: string }
  readonly sign: (head: { readonly seq: number; readonly hash: string; readonly ts: number }) => Checkpoint
  /** `true` only for a checkpoint whose `kid` is this key's and whose signature verifies. Never throws. */
  readonly verify: (checkpoint: Checkpoint) => boolean
}

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 §7), followed by the 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex")

const payload = (c: { seq: number; hash: string; ts: number; kid: string }) =>
  Buffer.from(canonicalJson({ ctx: CHECKPOINT_CONTEXT, seq: c.seq, hash: c.hash, ts: c.ts, kid: c.kid }))

/**
 * The checkpoint key derived from `secret` (32 bytes or more; the broker passes its master key):
 * Ed25519 seed = HKDF-SHA256(secret, salt "cordon", info `CHECKPOINT_CONTEXT`, 32 bytes). Deterministic,
 * so `cordon audit verify` derives the same key from the same master key. Throws a `TypeError` on a
 * secret shorter than 32 bytes (a programming error).
 */
export const checkpointKey = (secret: Uint8Array): CheckpointKey => {
  if (!(secret instanceof Uint8Array) || secret.length < 32)
    throw new TypeError("checkpoint secret too short")
  const seed = Buffer.from(hkdfSync("sha256", secret, "cordon", CHECKPOINT_CONTEXT, 32))
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8"
  })
  const publicKey = createPublicKey(privateKey)
  const jwk = publicKey.export({ format: "jwk" }) as { kty: string; crv: string; x: string }
  const kid = createHash("sha256").update(Buffer.from(jwk.x, "base64url")).digest("hex").slice(0, 16)
  return {
    kid,
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
    sign: (head) => {
      const unsigned = { seq: head.seq, hash: head.hash, ts: head.ts, kid }
      return { ...unsigned, sig: sign(null, payload(unsigned), privateKey).toString("base64url") }
    },
    verify: (c) => {
      if (c.kid !== kid || !/^[A-Za-z0-9_-]{86}$/.test(c.sig)) return false
      try {
        return verify(null, payload(c), publicKey, Buffer.from(c.sig, "base64url"))
      } catch {
        return false
      }
    }
  }
}

/** Default checkpoint file of a broker whose data lives in `dataDir`. */
export const checkpointFileOf = (dataDir: string): string => path.join(dataDir, "audit", "checkpoints.jsonl")

/** The lines of a checkpoint file: well-formed checkpoints, and the 1-based numbers of malformed lines. */
export interface CheckpointFile {
  readonly checkpoints: ReadonlyArray<Checkpoint>
  readonly malformedLines: ReadonlyArray<number>
}

const decodeCheckpoint = Schema.decodeUnknownOption(Schema.parseJson(Checkpoint), {
  onExcessProperty: "error"
})

const unavailable = (reason: string) => () =>
  new AuditUnavailableError({ code: "E_AUDIT_UNAVAILABLE", reason })

/** Reads a checkpoint file; a missing file has no checkpoints. Fails only when the file cannot be read. */
export const readCheckpoints = (file: string): Effect.Effect<CheckpointFile, AuditUnavailableError> =>
  Effect.try({
    try: () => {
      if (!fs.existsSync(file)) return { checkpoints: [], malformedLines: [] }
      const checkpoints: Array<Checkpoint> = []
      const malformedLines: Array<number> = []
      fs.readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (line.trim() === "") return
          const decoded = decodeCheckpoint(line)
          if (Option.isSome(decoded)) checkpoints.push(decoded.value)
          else malformedLines.push(i + 1)
        })
      return { checkpoints, malformedLines }
    },
    catch: unavailable("audit checkpoints could not be read")
  })

/** Appends one checkpoint line and flushes it to disk (directory mode 0700, file mode 0600). */
export const appendCheckpoint = (
  file: string,
  checkpoint: Checkpoint
): Effect.Effect<void, AuditUnavailableError> =>
  Effect.try({
    try: () => {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
      const fd = fs.openSync(file, "a", 0o600)
      try {
        fs.writeSync(fd, `${JSON.stringify(checkpoint)}\n`)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    },
    catch: unavailable("audit checkpoint could not be written")
  })

/** The checkpoint writer of a running broker. */
export interface AuditCheckpointsService {
  /** Signs and appends a checkpoint of the log's current head, unless it is already checkpointed. */
  readonly checkpoint: () => Effect.Effect<Option.Option<Checkpoint>, AuditUnavailableError>
  /** The last checkpoint written or found in the file at start. */
  readonly latest: () => Effect.Effect<Option.Option<Checkpoint>>
}

/** Tag of the checkpoint writer. */
export class AuditCheckpoints extends Context.Tag("@cordon/store/AuditCheckpoints")<
  AuditCheckpoints,
  AuditCheckpointsService
>() {
  /**
   * Wraps the ambient `AuditLog`: provides `AuditCheckpoints` and an `AuditLog` whose `append` writes a
   * signed checkpoint after every record whose `seq` is a multiple of `every` (default 100). A checkpoint
   * that cannot be written fails that append with `AuditUnavailableError` (the caller fails closed; the
   * record itself is stored). A final checkpoint of the head is written when the layer's scope closes.
   */
  static readonly layer = (options: {
    readonly file: string
    readonly key: CheckpointKey
    readonly every?: number
  }): Layer.Layer<AuditCheckpoints | AuditLog, AuditUnavailableError, AuditLog> =>
    Layer.scopedContext(
      Effect.gen(function* () {
        const base = yield* AuditLog
        const every = Math.max(1, Math.trunc(options.every ?? DEFAULT_CHECKPOINT_EVERY))
        const existing = yield* readCheckpoints(options.file)
        let last = Option.fromNullable(existing.checkpoints[existing.checkpoints.length - 1])
        const write = (head: { seq: number; hash: string }) =>
          Effect.suspend(() => {
            // Checkpoints only move forward, even when concurrent appends finish out of order.
            if (Option.isSome(last) && last.value.seq >= head.seq) return Effect.succeed(Option.none())
            const checkpoint = options.key.sign({ seq: head.seq, hash: head.hash, ts: Date.now() })
            return appendCheckpoint(options.file, checkpoint).pipe(
              Effect.map(() => {
                last = Option.some(checkpoint)
                return Option.some(checkpoint)
              })
            )
          })
        const checkpoint = () =>
          base
            .head()
            .pipe(
              Effect.flatMap(Option.match({ onNone: () => Effect.succeed(Option.none()), onSome: write })),
              Effect.withSpan("AuditCheckpoints.checkpoint")
            )
        yield* Effect.addFinalizer(() => Effect.ignoreLogged(checkpoint()))
        const log: AuditLogService = {
          ...base,
          append: (entry) =>
            base
              .append(entry)
              .pipe(Effect.tap((record) => (record.seq % every === 0 ? write(record) : Effect.void)))
        }
        const service: AuditCheckpointsService = {
          checkpoint,
          latest: () => Effect.sync(() => last)
        }
        return Context.make(AuditCheckpoints, service).pipe(Context.add(AuditLog, log))
      })
    )
}
