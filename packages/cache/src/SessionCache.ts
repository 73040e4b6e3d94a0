/**
 * One session's cache: summaries, embeddings (with an in-memory vector index) and retrieved
 * documents in one SQLite file, `<rootDir>/tenants/<tenant>/sessions/<session>.sqlite` (WAL mode).
 * Meant to be opened by the tenant's worker thread only, one owning thread per file.
 *
 * @module
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { sessionCachePath } from "./CachePath.js"
import { CacheError, type InvalidIdentifier } from "./Errors.js"
import { ensurePrivateFile, removeSessionFiles } from "./internal/files.js"
import * as Rows from "./internal/rows.js"
import { decodeVector, encodeVector, type SearchHit, VectorIndex } from "./internal/VectorIndex.js"

export type { SearchHit } from "./internal/VectorIndex.js"

/** Metadata of an entry: a JSON-serialisable object. */
export type CacheMeta = Readonly<Record<string, unknown>>

/** A stored summary. `createdAt` is milliseconds since the Unix epoch (time of the last write). */
export interface Summary {
  readonly key: string
  readonly text: string
  readonly meta: CacheMeta
  readonly createdAt: number
}

/** A retrieved document to store, with its provenance. `retrievedAt` in epoch ms, default now. */
export interface DocumentInput {
  readonly key: string
  readonly source: string
  readonly content: string
  readonly taskId?: string
  readonly retrievedAt?: number
}

/** A stored retrieved document. `taskId` is `null` when none was given. */
export interface CachedDocument {
  readonly key: string
  readonly source: string
  readonly content: string
  readonly taskId: string | null
  readonly retrievedAt: number
}

/** Number of rows per table. */
export interface CacheStats {
  readonly summaries: number
  readonly embeddings: number
  readonly documents: number
}

/**
 * Handle over one session's cache file. Every operation fails with `CacheError`: reason `closed`
 * after `close`/`destroy`, `dimension` for a vector whose length is not `dimension`,
 * `invalid-argument` for an empty or over-long (> 1024 chars) key, a non-finite vector component,
 * a bad `k` or a `meta` that is not a JSON object, `sql` when SQLite fails. Writes are upserts.
 */
export interface SessionCache {
  readonly tenant: string
  readonly session: string
  /** Absolute or `rootDir`-relative path of the SQLite file. */
  readonly path: string
  /** Length of every stored and queried vector. */
  readonly dimension: number
  readonly putSummary: (key: string, text: string, meta?: CacheMeta) => Effect.Effect<void, CacheError>
  readonly getSummary: (key: string) => Effect.Effect<Option.Option<Summary>, CacheError>
  readonly putEmbedding: (
    key: string,
    vector: Float32Array,
    meta?: CacheMeta
  ) => Effect.Effect<void, CacheError>
  /** The `k` (integer ≥ 0) stored embeddings most cosine-similar to `vector`, best first. */
  readonly search: (vector: Float32Array, k: number) => Effect.Effect<ReadonlyArray<SearchHit>, CacheError>
  readonly putDocument: (document: DocumentInput) => Effect.Effect<void, CacheError>
  readonly getDocument: (key: string) => Effect.Effect<Option.Option<CachedDocument>, CacheError>
  readonly stats: () => Effect.Effect<CacheStats, CacheError>
  /** `false` once `close` or `destroy` ran, or the scope the cache was opened in closed. */
  readonly isOpen: () => boolean
  /** Closes the connection and drops the in-memory index; keeps the file. Idempotent. */
  readonly close: () => Effect.Effect<void>
  /**
   * Closes the connection, drops the index, then deletes the file and its `-wal` and `-shm`.
   * Idempotent; fails with `CacheError` reason `io` if a file cannot be removed.
   */
  readonly destroy: () => Effect.Effect<void, CacheError>
}

/** Where and how to open a session cache. `dimension`: integer in `[1, 65536]`. */
export interface SessionCacheOptions {
  readonly rootDir: string
  readonly tenant: string
  readonly session: string
  readonly dimension: number
}

const MAX_KEY_LENGTH = 1024

const fail = (reason: CacheError["reason"], cause?: unknown) =>
  Effect.fail(cause === undefined ? new CacheError({ reason }) : new CacheError({ reason, cause }))

const sqlError = (cause: SqlError) => new CacheError({ reason: "sql", cause })

const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (row: unknown) =>
    Effect.mapError(
      Schema.decodeUnknown(schema)(row),
      (cause) => new CacheError({ reason: "corrupt", cause })
    )

const checkKey = (key: string) =>
  typeof key === "string" && key.length > 0 && key.length <= MAX_KEY_LENGTH
    ? Effect.void
    : fail("invalid-argument")

const encodeMeta = (meta: CacheMeta | undefined) =>
  Effect.suspend(() => {
    const value = meta ?? {}
    if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("invalid-argument")
    return Effect.try({
      try: () => JSON.stringify(value),
      catch: (cause) => new CacheError({ reason: "invalid-argument", cause })
    })
  })

const checkVector = (vector: Float32Array, dimension: number) => {
  if (!(vector instanceof Float32Array) || vector.length !== dimension) return fail("dimension")
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) return fail("invalid-argument")
  return Effect.void
}

/**
 * Opens (creating if needed) one session's cache file in the current `Scope`.
 *
 * Creates `<rootDir>/tenants/<tenant>/sessions/` with mode 0o700 and the file with mode 0o600,
 * enables WAL, a 5 s busy timeout and `secure_delete`, creates the tables `summaries`,
 * `embeddings` (vectors as float32 little-endian blobs), `documents` and `cache_info`, records the
 * vector dimension on first open and loads stored embeddings into the in-memory index. Closing the
 * scope closes the connection (the file stays). All SQL is parameterised.
 *
 * Fails with `InvalidIdentifier` for a bad tenant/session id; `CacheError` reason `dimension` when
 * the file was created with another dimension, `invalid-argument` for a bad `dimension`, `io` when
 * a directory or the file cannot be created safely (symbolic links refused), `sql`/`corrupt`
 * when the file cannot be opened or read.
 */
export const openSessionCache = (
  options: SessionCacheOptions
): Effect.Effect<SessionCache, CacheError | InvalidIdentifier, Scope.Scope> =>
  Effect.gen(function* () {
    const { dimension, session, tenant } = options
    const path = yield* sessionCachePath(options.rootDir, tenant, session)
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65536)
      return yield* fail("invalid-argument")
    yield* ensurePrivateFile(path)
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    return yield* connect(path, options).pipe(
      Scope.extend(scope),
      Effect.flatMap((sql) => makeHandle(path, options, sql, scope).load),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  }).pipe(
    Effect.withSpan("SessionCache.open", {
      attributes: { "cordon.tenant": options.tenant, "cordon.session": options.session }
    })
  )

const connect = (path: string, options: SessionCacheOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqliteClient.make({
      filename: path,
      spanAttributes: { "cordon.tenant": options.tenant, "cordon.session": options.session }
    }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make),
      // better-sqlite3 throws synchronously (e.g. "file is not a database") inside `make`
      Effect.catchAllDefect((cause) => fail("sql", cause))
    )
    yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    yield* sql.unsafe("PRAGMA secure_delete = ON")
    yield* sql.withTransaction(
      Effect.gen(function* () {
        for (const ddl of Rows.DDL) yield* sql.unsafe(ddl)
        yield* sql`INSERT INTO cache_info (name, value) VALUES ('layout', ${Rows.LAYOUT_VERSION}), ('dimension', ${String(options.dimension)}) ON CONFLICT (name) DO NOTHING`
      })
    )
    const rows = yield* sql`SELECT value FROM cache_info WHERE name = 'dimension'`
    const stored = yield* decode(Rows.InfoRow)(rows[0])
    if (stored.value !== String(options.dimension)) return yield* fail("dimension")
    return sql
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(sqlError(e))))

const makeHandle = (
  path: string,
  options: SessionCacheOptions,
  sql: SqliteClient.SqliteClient,
  scope: Scope.CloseableScope
) => {
  const { dimension, session, tenant } = options
  const index = new VectorIndex()
  let state: "open" | "closed" | "destroyed" = "open"

  const attributes = { "cordon.tenant": tenant, "cordon.session": session }
  const op =
    (name: string) =>
    <A>(self: Effect.Effect<A, CacheError | SqlError>): Effect.Effect<A, CacheError> =>
      Effect.suspend(() => (state === "open" ? self : fail("closed"))).pipe(
        Effect.mapError((e) => (e._tag === "SqlError" ? sqlError(e) : e)),
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

  const load = Effect.gen(function* () {
    yield* markClosed
    const rows = yield* sql`SELECT key, vector, meta FROM embeddings`
    for (const raw of rows) {
      const row = yield* decode(Rows.EmbeddingRow)(raw)
      const vector = decodeVector(row.vector, dimension)
      if (vector === undefined) return yield* fail("dimension")
      index.set(row.key, vector, row.meta)
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
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO summaries (key, text, meta, created_at) VALUES (${key}, ${text}, ${json}, ${now})
          ON CONFLICT (key) DO UPDATE SET text = excluded.text, meta = excluded.meta, created_at = excluded.created_at`
      }).pipe(op("putSummary")),

    getSummary: (key) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        const rows = yield* sql`SELECT key, text, meta, created_at FROM summaries WHERE key = ${key}`
        if (rows[0] === undefined) return Option.none()
        const row = yield* decode(Rows.SummaryRow)(rows[0])
        return Option.some<Summary>({
          key: row.key,
          text: row.text,
          meta: row.meta,
          createdAt: row.created_at
        })
      }).pipe(op("getSummary")),

    putEmbedding: (key, vector, meta) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        yield* checkVector(vector, dimension)
        const json = yield* encodeMeta(meta)
        const stored = JSON.parse(json) as CacheMeta
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO embeddings (key, vector, meta, created_at) VALUES (${key}, ${encodeVector(vector)}, ${json}, ${now})
          ON CONFLICT (key) DO UPDATE SET vector = excluded.vector, meta = excluded.meta, created_at = excluded.created_at`
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
        const retrievedAt = document.retrievedAt ?? (yield* Clock.currentTimeMillis)
        if (!Number.isSafeInteger(retrievedAt)) return yield* fail("invalid-argument")
        const taskId = document.taskId ?? null
        yield* sql`INSERT INTO documents (key, source, content, task_id, retrieved_at) VALUES (${key}, ${source}, ${content}, ${taskId}, ${retrievedAt})
          ON CONFLICT (key) DO UPDATE SET source = excluded.source, content = excluded.content, task_id = excluded.task_id, retrieved_at = excluded.retrieved_at`
      }).pipe(op("putDocument")),

    getDocument: (key) =>
      Effect.gen(function* () {
        yield* checkKey(key)
        const rows =
          yield* sql`SELECT key, source, content, task_id, retrieved_at FROM documents WHERE key = ${key}`
        if (rows[0] === undefined) return Option.none()
        const row = yield* decode(Rows.DocumentRow)(rows[0])
        return Option.some<CachedDocument>({
          key: row.key,
          source: row.source,
          content: row.content,
          taskId: row.task_id,
          retrievedAt: row.retrieved_at
        })
      }).pipe(op("getDocument")),

    stats: () =>
      Effect.gen(function* () {
        const rows = yield* sql`SELECT (SELECT count(*) FROM summaries) AS summaries,
          (SELECT count(*) FROM embeddings) AS embeddings, (SELECT count(*) FROM documents) AS documents`
        return yield* decode(Rows.CountsRow)(rows[0])
      }).pipe(op("stats")),

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
