/**
 * One session's cache: summaries, embeddings (with an in-memory vector index) and retrieved
 * documents in one SQLite file, `<rootDir>/tenants/<tenant>/sessions/<session>.sqlite` (WAL mode).
 * Meant to be opened by the tenant's worker thread only, one owning thread per file.
 *
 * Encryption at rest: every stored value (summary text and meta, embedding vector and meta,
 * document source, content and task id, timestamps) is sealed with AES-256-GCM under the
 * session's data key, which is held in memory only and zeroed on close. Entry keys stay in clear
 * text as primary keys: they are ids chosen by the runtime and must not carry data.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type {
  CachedDocument,
  CacheMeta,
  CacheUsage,
  SessionCache,
  SessionCacheOptions,
  Summary
} from "./CacheTypes.js"
import { sessionCachePath } from "./CachePath.js"
import { type CacheError, type InvalidIdentifier, QuotaExceeded, type SecretInCacheError } from "./Errors.js"
import {
  checkKey,
  checkVector,
  decode,
  encodeMeta,
  fail,
  isPositiveInteger,
  sqlError
} from "./internal/checks.js"
import { connect } from "./internal/connect.js"
import { ensurePrivateFile, removeSessionFiles } from "./internal/files.js"
import { admit, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, type Usage } from "./internal/Quota.js"
import { decodeEmbedding, encodeEmbedding } from "./internal/records.js"
import * as Rows from "./internal/rows.js"
import { isDataKey, makeSealer, type Sealer } from "./internal/Seal.js"
import { findSecret } from "./internal/SecretScan.js"
import { VectorIndex } from "./internal/VectorIndex.js"

export { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES } from "./internal/Quota.js"

export type {
  CachedDocument,
  CacheMeta,
  CacheStats,
  CacheUsage,
  CacheWriteError,
  DocumentInput,
  SearchHit,
  SessionCache,
  SessionCacheOptions,
  Summary
} from "./CacheTypes.js"

const EntryBytes = Schema.Struct({ bytes: Schema.Number })

const isSqlError = (e: unknown): e is SqlError =>
  typeof e === "object" && e !== null && "_tag" in e && e._tag === "SqlError"

/**
 * Opens (creating if needed) one session's cache file in the current `Scope`.
 *
 * Creates `<rootDir>/tenants/<tenant>/sessions/` with mode 0o700 and the file with mode 0o600,
 * enables WAL, a 5 s busy timeout and `secure_delete`, creates the tables `summaries`,
 * `embeddings`, `documents` (each `key TEXT PRIMARY KEY, value BLOB` holding the sealed record,
 * `iv | ciphertext | tag`, AAD `cordon-cache|<tenant>|<session>|<table>|<key>`) and `cache_info`,
 * records layout, vector dimension and a sealed key check on first open, then decrypts stored
 * embeddings into the in-memory index. Closing the scope closes the connection and zeroes the key
 * copy (the file stays). All SQL is parameterised.
 *
 * Fails with `InvalidIdentifier` for a bad tenant/session id; `CacheError` reason
 * `invalid-argument` for a bad `dimension`, `dataKey` (not a 32-byte `Uint8Array`), `maxEntries`
 * or `maxBytes`; `dimension` when the file was created with another dimension; `corrupt` when the
 * key check or a stored embedding does not open with this key, tenant and session (wrong key,
 * file or row copied from another session) or the file has another layout; `io` when a directory
 * or the file cannot be created safely (symbolic links refused); `sql` when SQLite fails.
 */
export const openSessionCache = (
  options: SessionCacheOptions
): Effect.Effect<SessionCache, CacheError | InvalidIdentifier, Scope.Scope> =>
  Effect.gen(function* () {
    const { dataKey, dimension, session, tenant } = options
    const path = yield* sessionCachePath(options.rootDir, tenant, session)
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    if (
      !isPositiveInteger(dimension, 65536) ||
      !isDataKey(dataKey) ||
      !isPositiveInteger(maxEntries) ||
      !isPositiveInteger(maxBytes)
    )
      return yield* fail("invalid-argument")
    yield* ensurePrivateFile(path)
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const sealer = makeSealer(dataKey, tenant, session)
    yield* Scope.addFinalizer(scope, Effect.sync(sealer.wipe))
    return yield* connect(path, options, sealer).pipe(
      Scope.extend(scope),
      Effect.flatMap(
        (sql) =>
          makeHandle({ path, tenant, session, dimension, maxEntries, maxBytes }, sql, sealer, scope).load
      ),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  }).pipe(
    Effect.withSpan("SessionCache.open", {
      attributes: { "cordon.tenant": options.tenant, "cordon.session": options.session }
    })
  )

interface HandleConfig {
  readonly path: string
  readonly tenant: string
  readonly session: string
  readonly dimension: number
  readonly maxEntries: number
  readonly maxBytes: number
}

const makeHandle = (
  config: HandleConfig,
  sql: SqliteClient.SqliteClient,
  sealer: Sealer,
  scope: Scope.CloseableScope
) => {
  const { dimension, path, session, tenant } = config
  const index = new VectorIndex()
  const usage: Usage = { entries: 0, bytes: 0 }
  const writeLock = Effect.unsafeMakeSemaphore(1)
  let state: "open" | "closed" | "destroyed" = "open"

  const attributes = { "cordon.tenant": tenant, "cordon.session": session }
  const op =
    (name: string) =>
    <A, E>(self: Effect.Effect<A, E | SqlError>): Effect.Effect<A, E | CacheError> =>
      Effect.suspend(
        (): Effect.Effect<A, E | SqlError | CacheError> => (state === "open" ? self : fail("closed"))
      ).pipe(
        Effect.mapError((e) => (isSqlError(e) ? sqlError(e) : e)),
        Effect.withSpan(`SessionCache.${name}`, { attributes })
      )

  const close = () =>
    Effect.suspend(() => {
      if (state !== "open") return Effect.void
      state = "closed"
      index.clear()
      return Scope.close(scope, Exit.void)
    }).pipe(Effect.withSpan("SessionCache.close", { attributes }))

  // Runs when the opening scope closes without `close()` being called.
  const markClosed = Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      if (state === "open") state = "closed"
      index.clear()
    })
  )

  /** Reads and opens the sealed value of `key` in `table`. */
  const read = (table: Rows.Table, key: string) =>
    Effect.gen(function* () {
      const rows = yield* sql`SELECT value FROM ${sql(table)} WHERE key = ${key}`
      if (rows[0] === undefined) return Option.none<Buffer>()
      const row = yield* decode(Rows.ValueRow)(rows[0])
      return Option.some(yield* sealer.open(table, key, row.value))
    })

  /** Seals `plaintext`, checks the quota, then upserts; nothing is written on failure. */
  const write = (table: Rows.Table, key: string, plaintext: Uint8Array) =>
    writeLock.withPermits(1)(
      Effect.gen(function* () {
        const value = sealer.seal(table, key, plaintext)
        const rows = yield* sql`SELECT length(value) AS bytes FROM ${sql(table)} WHERE key = ${key}`
        const existing = rows[0] === undefined ? undefined : (yield* decode(EntryBytes)(rows[0])).bytes
        const delta = admit(usage, config, existing, value.byteLength)
        if (delta instanceof QuotaExceeded) return yield* Effect.fail(delta)
        yield* sql`INSERT INTO ${sql(table)} (key, value) VALUES (${key}, ${value})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`
        usage.entries += delta.entries
        usage.bytes += delta.bytes
      })
    )

  const refuseSecret = (error: SecretInCacheError | undefined) =>
    error === undefined ? Effect.void : Effect.fail(error)

  const load = Effect.gen(function* () {
    yield* markClosed
    const totals = yield* sql`SELECT
      (SELECT count(*) FROM summaries) + (SELECT count(*) FROM embeddings) + (SELECT count(*) FROM documents) AS entries,
      coalesce((SELECT sum(length(value)) FROM summaries), 0) + coalesce((SELECT sum(length(value)) FROM embeddings), 0)
        + coalesce((SELECT sum(length(value)) FROM documents), 0) AS bytes`
    const counted = yield* decode(Rows.UsageRow)(totals[0])
    usage.entries = counted.entries
    usage.bytes = counted.bytes
    const rows = yield* sql`SELECT key, value FROM embeddings`
    for (const raw of rows) {
      const row = yield* decode(Rows.EntryRow)(raw)
      const plaintext = yield* sealer.open("embeddings", row.key, row.value)
      const record = yield* decodeEmbedding(plaintext, dimension)
      index.set(row.key, record.vector, record.meta)
    }
    return handle
  }).pipe(op("load"))

  const handle: SessionCache = {
    tenant,
    session,
    path,
    dimension,
    putSummary: (key, text, meta) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        if (typeof text !== "string") return yield* fail("invalid-argument")
        const json = yield* encodeMeta(meta)
        yield* refuseSecret(findSecret([["text", text]], [json, meta]))
        const now = yield* Clock.currentTimeMillis
        const record = `{"text":${JSON.stringify(text)},"meta":${json},"createdAt":${now}}`
        yield* write("summaries", key, Buffer.from(record, "utf8"))
      }).pipe(op("putSummary")),

    getSummary: (key) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        const plaintext = yield* read("summaries", key)
        if (Option.isNone(plaintext)) return Option.none()
        const record = yield* decode(Rows.SummaryRecord)(plaintext.value.toString("utf8"))
        return Option.some<Summary>({ key, ...record })
      }).pipe(op("getSummary")),

    putEmbedding: (key, vector, meta) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        yield* checkVector(vector, dimension)
        const json = yield* encodeMeta(meta)
        yield* refuseSecret(findSecret([], [json, meta]))
        const stored = JSON.parse(json) as CacheMeta
        const now = yield* Clock.currentTimeMillis
        yield* write("embeddings", key, encodeEmbedding(json, now, vector))
        index.set(key, vector, stored)
      }).pipe(op("putEmbedding")),

    search: (vector, k) =>
      Effect.gen(function* () {
        yield* checkVector(vector, dimension)
        if (!Number.isInteger(k) || k < 0) return yield* fail("invalid-argument")
        return index.search(vector, k)
      }).pipe(op("search")),

    putDocument: (document) =>
      Effect.gen(function* () {
        const { content, key, source } = document
        yield* checkKey(key)
        if (typeof source !== "string" || typeof content !== "string") return yield* fail("invalid-argument")
        const taskId = document.taskId ?? null
        if (taskId !== null && typeof taskId !== "string") return yield* fail("invalid-argument")
        const retrievedAt = document.retrievedAt ?? (yield* Clock.currentTimeMillis)
        if (!Number.isSafeInteger(retrievedAt)) return yield* fail("invalid-argument")
        yield* refuseSecret(
          findSecret([
            ["source", source],
            ["content", content]
          ])
        )
        const record = JSON.stringify({ source, content, taskId, retrievedAt })
        yield* write("documents", key, Buffer.from(record, "utf8"))
      }).pipe(op("putDocument")),

    getDocument: (key) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        const plaintext = yield* read("documents", key)
        if (Option.isNone(plaintext)) return Option.none()
        const record = yield* decode(Rows.DocumentRecord)(plaintext.value.toString("utf8"))
        return Option.some<CachedDocument>({ key, ...record })
      }).pipe(op("getDocument")),

    stats: () =>
      Effect.gen(function* () {
        const rows = yield* sql`SELECT (SELECT count(*) FROM summaries) AS summaries,
          (SELECT count(*) FROM embeddings) AS embeddings, (SELECT count(*) FROM documents) AS documents`
        return yield* decode(Rows.CountsRow)(rows[0])
      }).pipe(op("stats")),

    countOccurrences: (needles) =>
      Effect.gen(function* () {
        const counts = needles.map(() => 0)
        const wanted = needles.map((n) => Buffer.from(n, "utf8"))
        for (const table of ["summaries", "embeddings", "documents"] as const) {
          const rows = yield* sql`SELECT key, value FROM ${sql(table)}`
          for (const raw of rows) {
            const row = yield* decode(Rows.EntryRow)(raw)
            const plaintext = yield* sealer.open(table, row.key, row.value)
            wanted.forEach((needle, i) => {
              if (needle.length === 0) return
              for (
                let at = plaintext.indexOf(needle);
                at >= 0;
                at = plaintext.indexOf(needle, at + needle.length)
              ) {
                counts[i] = (counts[i] ?? 0) + 1
              }
            })
          }
        }
        return counts
      }).pipe(op("countOccurrences")),

    usage: () =>
      Effect.sync(
        (): CacheUsage => ({
          entries: usage.entries,
          bytes: usage.bytes,
          maxEntries: config.maxEntries,
          maxBytes: config.maxBytes
        })
      ).pipe(op("usage")),

    isOpen: () => state === "open",
    close,
    destroy: () =>
      Effect.gen(function* () {
        yield* close()
        yield* removeSessionFiles(path)
        state = "destroyed"
      }).pipe(Effect.withSpan("SessionCache.destroy", { attributes }))
  }

  return { handle, load }
}
