/**
 * The operations of an open session cache (see `SessionCache` for the contract).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type {
  CachedDocument,
  CacheMeta,
  CacheUsage,
  Provenance,
  SessionCache,
  Summary,
  TenantQuota,
  WriteOptions
} from "../CacheTypes.js"
import { CacheError, type SecretInCacheError } from "../Errors.js"
import { isTaskId, isTrust, isTtl, MAX_KEY_LENGTH } from "./checks.js"
import { type Db, readFailure, writeFailure } from "./Db.js"
import { removeSessionFiles } from "./files.js"
import * as Records from "./records.js"
import { TABLES, type Table } from "./rows.js"
import type { Sealer } from "./Seal.js"
import { findSecret } from "./SecretScan.js"
import { Store } from "./Store.js"
import { VectorIndex } from "./VectorIndex.js"

export interface HandleConfig {
  readonly path: string
  readonly tenant: string
  readonly session: string
  readonly dimension: number
  readonly maxEntries: number
  readonly maxBytes: number
  readonly defaultTtlSeconds: number
  readonly tenantQuota: TenantQuota | undefined
}

const SPANNED = new Set(["load", "purgeByTask", "purgeExpired", "countOccurrences", "stats", "usage"])

const invalid = () => new CacheError({ reason: "invalid-argument" })

const checkKey = (key: unknown): void => {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) throw invalid()
}

/** `meta` (default `{}`) as JSON; it must be a JSON object. */
const metaJson = (meta: CacheMeta | undefined): string => {
  const value = meta ?? {}
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid()
  try {
    return JSON.stringify(value)
  } catch {
    throw invalid()
  }
}

const checkVector = (vector: Float32Array, dimension: number): void => {
  if (!(vector instanceof Float32Array) || vector.length !== dimension)
    throw new CacheError({ reason: "dimension" })
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) throw invalid()
}

export const makeHandle = (config: HandleConfig, db: Db, sealer: Sealer, scope: Scope.CloseableScope) => {
  const { dimension, path, session, tenant } = config
  const index = new VectorIndex(dimension)
  const store = new Store(db, config, config.tenantQuota, (table, key) => {
    if (table === "embeddings") index.delete(key)
  })
  let state: "open" | "closed" = "open"
  const attributes = { "cordon.tenant": tenant, "cordon.session": session }

  /**
   * Runs `f(now)` synchronously on an open cache; thrown failures become typed errors. Per-entry
   * operations (`put*`, `get*`, `search`) run without a span: a span costs several times the
   * operation itself (measured: ~20 µs against a ~30 µs sealed put). Whole-cache operations
   * (open, load, purges, leak probe, close, destroy) are spanned.
   */
  const run = <A, E>(
    name: string,
    f: (now: number) => A,
    onThrow: (cause: unknown) => E
  ): Effect.Effect<A, E | CacheError> => {
    const effect = Effect.clockWith(
      (clock): Effect.Effect<A, E | CacheError> =>
        state !== "open"
          ? Effect.fail(new CacheError({ reason: "closed" }))
          : Effect.try({ try: () => f(clock.unsafeCurrentTimeMillis()), catch: onThrow })
    )
    return SPANNED.has(name)
      ? Effect.withSpan(effect, `SessionCache.${name}`, { attributes, captureStackTrace: false })
      : effect
  }

  const write = <A>(name: string, f: (now: number) => A) => run(name, f, writeFailure)
  const read = <A>(name: string, f: (now: number) => A) => run(name, f, readFailure)

  /** Options of a write with defaults applied; throws `invalid-argument` on a bad value. */
  const resolve = (options: WriteOptions | undefined, taskDefault: string | undefined) => {
    const ttlSeconds = options?.ttlSeconds ?? config.defaultTtlSeconds
    const taskId = options?.taskId ?? taskDefault ?? null
    const source = options?.source ?? null
    const trust = options?.trust ?? "untrusted"
    if (!isTtl(ttlSeconds) || !isTrust(trust)) throw invalid()
    if ((taskId !== null && !isTaskId(taskId)) || (source !== null && typeof source !== "string"))
      throw invalid()
    return { ttlSeconds, taskId, source, trust }
  }

  const refuseSecret = (error: SecretInCacheError | undefined): void => {
    if (error !== undefined) throw error
  }

  const taskTag = (taskId: string | null) => (taskId === null ? null : sealer.taskTag(taskId))

  /** Opens a sealed value read from `table`, or `None`. */
  const opened = (table: Table, key: string, blob: Buffer | undefined) =>
    blob === undefined ? Effect.succeed(Option.none<Buffer>()) : Effect.asSome(sealer.open(table, key, blob))

  const markClosed = () => {
    if (state === "closed") return
    state = "closed"
    index.clear()
    store.release()
  }

  const close = () =>
    Effect.suspend(() => {
      if (state !== "open") return Effect.void
      markClosed()
      return Scope.close(scope, Exit.void)
    }).pipe(Effect.withSpan("SessionCache.close", { attributes }))

  const view = (taskDefault: string | undefined): SessionCache => ({
    tenant,
    session,
    path,
    dimension,
    putSummary: (key, text, meta, options) =>
      write("putSummary", (now) => {
        checkKey(key)
        if (typeof text !== "string") throw invalid()
        const w = resolve(options, taskDefault)
        const json = metaJson(meta)
        refuseSecret(
          findSecret(
            w.source === null
              ? [["text", text]]
              : [
                  ["text", text],
                  ["source", w.source]
                ],
            [json, meta]
          )
        )
        const expiresAt = now + w.ttlSeconds * 1000
        const provenance = { source: w.source, taskId: w.taskId, retrievedAt: now, trust: w.trust }
        const plaintext = Records.encodeSummary(text, json, now, expiresAt, provenance)
        store.write(
          "summaries",
          key,
          sealer.seal("summaries", key, plaintext),
          expiresAt,
          taskTag(w.taskId),
          now
        )
      }),

    getSummary: (key) =>
      Effect.gen(function* () {
        const [now, blob] = yield* read("getSummary", (now) => {
          checkKey(key)
          return [now, store.read("summaries", key, now)] as const
        })
        const plaintext = yield* opened("summaries", key, blob)
        if (Option.isNone(plaintext)) return Option.none()
        const record = yield* Records.decodeSummary(plaintext.value)
        return record.expiresAt > now ? Option.some<Summary>({ key, ...record }) : Option.none()
      }),

    putEmbedding: (key, vector, meta, options) =>
      write("putEmbedding", (now) => {
        checkKey(key)
        checkVector(vector, dimension)
        const w = resolve(options, taskDefault)
        const json = metaJson(meta)
        refuseSecret(findSecret(w.source === null ? [] : [["source", w.source]], [json, meta]))
        const expiresAt = now + w.ttlSeconds * 1000
        const bytes = Records.encodeVector(vector)
        const provenance: Provenance = {
          source: w.source,
          taskId: w.taskId,
          retrievedAt: now,
          contentHash: Records.contentHash(bytes),
          trust: w.trust
        }
        const plaintext = Records.encodeEmbedding(json, now, expiresAt, provenance, bytes)
        store.write(
          "embeddings",
          key,
          sealer.seal("embeddings", key, plaintext),
          expiresAt,
          taskTag(w.taskId),
          now
        )
        index.set(vector, { key, meta: JSON.parse(json) as CacheMeta, expiresAt, provenance })
      }),

    search: (vector, k) =>
      read("search", (now) => {
        checkVector(vector, dimension)
        if (!Number.isInteger(k) || k < 0) throw invalid()
        return index.search(vector, k, now)
      }),

    putDocument: (document) =>
      write("putDocument", (now) => {
        const { content, key, source } = document
        checkKey(key)
        if (typeof source !== "string" || typeof content !== "string") throw invalid()
        const w = resolve({ ...document, source }, taskDefault)
        const retrievedAt = document.retrievedAt ?? now
        if (!Number.isSafeInteger(retrievedAt)) throw invalid()
        refuseSecret(
          findSecret([
            ["source", source],
            ["content", content]
          ])
        )
        const expiresAt = now + w.ttlSeconds * 1000
        const provenance = { source, taskId: w.taskId, retrievedAt, trust: w.trust }
        const plaintext = Records.encodeDocument(content, expiresAt, provenance)
        store.write(
          "documents",
          key,
          sealer.seal("documents", key, plaintext),
          expiresAt,
          taskTag(w.taskId),
          now
        )
      }),

    getDocument: (key) =>
      Effect.gen(function* () {
        const [now, blob] = yield* read("getDocument", (now) => {
          checkKey(key)
          return [now, store.read("documents", key, now)] as const
        })
        const plaintext = yield* opened("documents", key, blob)
        if (Option.isNone(plaintext)) return Option.none()
        const { content, expiresAt, provenance } = yield* Records.decodeDocument(plaintext.value)
        if (expiresAt <= now) return Option.none()
        return Option.some<CachedDocument>({
          key,
          content,
          expiresAt,
          ...provenance,
          source: provenance.source ?? ""
        })
      }),

    purgeByTask: (taskId) =>
      read("purgeByTask", () => {
        if (!isTaskId(taskId)) throw invalid()
        return store.purgeByTask(sealer.taskTag(taskId))
      }),

    purgeExpired: () => read("purgeExpired", (now) => store.purgeExpired(now)),

    forTask: (taskId) => view(taskId),

    stats: () => read("stats", () => store.counts()),

    countOccurrences: (needles) =>
      Effect.gen(function* () {
        const rows = yield* read("countOccurrences", () =>
          TABLES.flatMap((table) =>
            (db.tables[table].list.all() as Array<{ key: string; value: Buffer }>).map((row) => ({
              table,
              ...row
            }))
          )
        )
        const counts = needles.map(() => 0)
        const wanted = needles.map((n) => Buffer.from(n, "utf8"))
        for (const row of rows) {
          const plaintext = yield* sealer.open(row.table, row.key, row.value)
          wanted.forEach((needle, i) => {
            if (needle.length === 0) return
            for (
              let at = plaintext.indexOf(needle);
              at >= 0;
              at = plaintext.indexOf(needle, at + needle.length)
            )
              counts[i] = (counts[i] ?? 0) + 1
          })
        }
        return counts
      }),

    usage: () =>
      read(
        "usage",
        (): CacheUsage => ({
          entries: store.usage.entries,
          bytes: store.usage.bytes,
          maxEntries: config.maxEntries,
          maxBytes: config.maxBytes
        })
      ),

    isOpen: () => state === "open",
    close,
    destroy: () =>
      Effect.zipRight(close(), removeSessionFiles(path)).pipe(
        Effect.withSpan("SessionCache.destroy", { attributes })
      )
  })

  const handle = view(undefined)

  /** Registers the close hook, purges expired entries, loads sizes and the vector index. */
  const load = Effect.gen(function* () {
    yield* Scope.addFinalizer(scope, Effect.sync(markClosed))
    const rows = yield* read("load", (now) => {
      store.purgeExpired(now)
      store.load()
      return db.tables.embeddings.list.all() as Array<{ key: string; value: Buffer }>
    })
    for (const row of rows) {
      const plaintext = yield* sealer.open("embeddings", row.key, row.value)
      const { vector, ...info } = yield* Records.decodeEmbedding(plaintext, dimension)
      index.set(vector, {
        key: row.key,
        meta: info.meta,
        expiresAt: info.expiresAt,
        provenance: info.provenance
      })
    }
  })

  return { handle, load }
}
