/**
 * Public shapes of a session cache: entries, the handle, its options and its failures.
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { CacheError, QuotaExceeded, SecretInCacheError } from "./Errors.js"
import type { SearchHit } from "./internal/VectorIndex.js"

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

/** Quota use: entries over all tables, sealed value bytes, and the limits in force. */
export interface CacheUsage {
  readonly entries: number
  readonly bytes: number
  readonly maxEntries: number
  readonly maxBytes: number
}

/** Failures of a cache write. */
export type CacheWriteError = CacheError | SecretInCacheError | QuotaExceeded

/**
 * Handle over one session's cache file. Every operation fails with `CacheError`: reason `closed`
 * after `close`/`destroy`, `dimension` for a vector whose length is not `dimension`,
 * `invalid-argument` for an empty or over-long (> 1024 chars) key, a non-finite vector component,
 * a bad `k` or a `meta` that is not a JSON object, `sql` when SQLite fails, `corrupt` when a
 * stored value does not authenticate under this session's key, namespace and entry key.
 *
 * Writes are upserts. Before anything is written they fail with `SecretInCacheError`
 * (`E_SECRET_IN_CACHE`) when a text field, a `meta` string or the `meta` JSON looks like a
 * JWS/JWT, a PEM block or a JWK private member (threat MC-05), and with `QuotaExceeded`
 * (`E_QUOTA_EXCEEDED`) when the write would pass `maxEntries` or `maxBytes` (an overwrite counts
 * the size difference only).
 */
export interface SessionCache {
  readonly tenant: string
  readonly session: string
  /** Absolute or `rootDir`-relative path of the SQLite file. */
  readonly path: string
  /** Length of every stored and queried vector. */
  readonly dimension: number
  readonly putSummary: (key: string, text: string, meta?: CacheMeta) => Effect.Effect<void, CacheWriteError>
  readonly getSummary: (key: string) => Effect.Effect<Option.Option<Summary>, CacheError>
  readonly putEmbedding: (
    key: string,
    vector: Float32Array,
    meta?: CacheMeta
  ) => Effect.Effect<void, CacheWriteError>
  /** The `k` (integer ≥ 0) stored embeddings most cosine-similar to `vector`, best first. */
  readonly search: (vector: Float32Array, k: number) => Effect.Effect<ReadonlyArray<SearchHit>, CacheError>
  readonly putDocument: (document: DocumentInput) => Effect.Effect<void, CacheWriteError>
  readonly getDocument: (key: string) => Effect.Effect<Option.Option<CachedDocument>, CacheError>
  readonly stats: () => Effect.Effect<CacheStats, CacheError>
  /** Current quota use and limits. */
  readonly usage: () => Effect.Effect<CacheUsage, CacheError>
  /**
   * How often each needle occurs in the decrypted values of every namespace (a leak probe: counts only,
   * never content). Fails with `CacheError` (`corrupt`) if any value does not open under this session.
   */
  readonly countOccurrences: (
    needles: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<number>, CacheError>
  /** `false` once `close` or `destroy` ran, or the scope the cache was opened in closed. */
  readonly isOpen: () => boolean
  /** Closes the connection, drops the in-memory index and zeroes the key; keeps the file. Idempotent. */
  readonly close: () => Effect.Effect<void>
  /**
   * Closes the connection, drops the index, then deletes the file and its `-wal` and `-shm`.
   * Idempotent; fails with `CacheError` reason `io` if a file cannot be removed.
   */
  readonly destroy: () => Effect.Effect<void, CacheError>
}

/**
 * Where and how to open a session cache.
 *
 * - `dimension`: integer in `[1, 65536]`.
 * - `dataKey`: the session's AES-256 data key, exactly 32 bytes; copied, never written to disk.
 * - `maxEntries`: entries allowed over all tables together (summaries + embeddings + documents),
 *   integer ≥ 1, default `DEFAULT_MAX_ENTRIES` (10,000).
 * - `maxBytes`: sealed value bytes allowed over all tables (each value is its plaintext + 28 bytes;
 *   keys and SQLite overhead are not counted), integer ≥ 1, default `DEFAULT_MAX_BYTES` (64 MiB).
 */
export interface SessionCacheOptions {
  readonly rootDir: string
  readonly tenant: string
  readonly session: string
  readonly dimension: number
  readonly dataKey: Uint8Array
  readonly maxEntries?: number
  readonly maxBytes?: number
}
