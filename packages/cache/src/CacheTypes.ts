/**
 * Public shapes of a session cache: entries with their provenance, the handle, its options and its
 * failures.
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { CacheError, QuotaExceeded, SecretInCacheError } from "./Errors.js"

/** Metadata of an entry: a JSON-serialisable object. */
export type CacheMeta = Readonly<Record<string, unknown>>

/**
 * How far an entry may be relied on. Everything is `"untrusted"` unless its writer says otherwise:
 * retrieved or summarised content may inform text but must not alone justify a high-risk action
 * (threat MC-03).
 */
export type Trust = "trusted" | "untrusted"

/**
 * Where an entry came from (threat MC-03: poisoned content can be traced and purged).
 *
 * - `source`: where the content was fetched from (URL, tool name), `null` when not given.
 * - `taskId`: the task that fetched or wrote it, `null` when not given (see `forTask`).
 * - `retrievedAt`: epoch milliseconds: the retrieval time given for a document, else the write time.
 * - `contentHash`: `sha256:<64 hex>` over the stored content: a summary's or document's text as
 *   UTF-8, an embedding's vector as float32 little-endian bytes (as given, before normalisation).
 * - `trust`: `"untrusted"` unless the writer passed `trust: "trusted"`.
 */
export interface Provenance {
  readonly source: string | null
  readonly taskId: string | null
  readonly retrievedAt: number
  readonly contentHash: string
  readonly trust: Trust
}

/**
 * Options of a write. `ttlSeconds`: lifetime, an integer in `[1, MAX_TTL_SECONDS]`, default the
 * cache's `defaultTtlSeconds`; the entry is invisible from `now + ttl` and purged soon after.
 * `taskId` (1–256 chars), `source` and `trust` are recorded in the entry's {@link Provenance}.
 */
export interface WriteOptions {
  readonly ttlSeconds?: number
  readonly taskId?: string
  readonly source?: string
  readonly trust?: Trust
}

/**
 * A stored summary. `createdAt` is the time of the last write and `expiresAt` the end of its TTL,
 * both epoch milliseconds.
 */
export interface Summary {
  readonly key: string
  readonly text: string
  readonly meta: CacheMeta
  readonly createdAt: number
  readonly expiresAt: number
  readonly provenance: Provenance
}

/**
 * A retrieved document to store. `retrievedAt` in epoch ms (default now); `trust` defaults to
 * `"untrusted"`; `ttlSeconds` and `taskId` as in {@link WriteOptions}.
 */
export interface DocumentInput {
  readonly key: string
  readonly source: string
  readonly content: string
  readonly taskId?: string
  readonly retrievedAt?: number
  readonly ttlSeconds?: number
  readonly trust?: Trust
}

/** A stored retrieved document: its content and provenance (`source` is never `null` here). */
export interface CachedDocument extends Provenance {
  readonly key: string
  readonly source: string
  readonly content: string
  readonly expiresAt: number
}

/** A search result: the entry's key, its cosine similarity to the query, metadata and provenance. */
export interface SearchHit {
  readonly key: string
  readonly score: number
  readonly meta: CacheMeta
  readonly expiresAt: number
  readonly provenance: Provenance
}

/** Number of live (stored, not yet purged) rows per namespace. */
export interface CacheStats {
  readonly summaries: number
  readonly embeddings: number
  readonly documents: number
}

/** Quota use: entries over all namespaces, sealed value bytes, and the limits in force. */
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
 * a bad `k`, TTL, task id or trust, or a `meta` that is not a JSON object, `sql` when SQLite fails,
 * `corrupt` when a stored value does not authenticate under this session's key, namespace and key.
 *
 * Writes are upserts. Before anything is written they fail with `SecretInCacheError`
 * (`E_SECRET_IN_CACHE`) when a text field, the source, a `meta` string or the `meta` JSON looks
 * like a JWS/JWT, a PEM block or a JWK private member (threat MC-05), and with `QuotaExceeded`
 * (`E_QUOTA_EXCEEDED`) when the write would pass the session's or the tenant's `maxEntries` or
 * `maxBytes` (an overwrite counts the size difference only); `QuotaExceeded` reason `disk` when
 * SQLite reports a full file or disk (the write is rolled back, the file stays intact).
 *
 * Expired entries (past their TTL) are invisible to `get*` and `search` and are deleted on open,
 * every `purgeIntervalSeconds`, and before a write would be refused for quota.
 */
export interface SessionCache {
  readonly tenant: string
  readonly session: string
  /** Absolute or `rootDir`-relative path of the SQLite file. */
  readonly path: string
  /** Length of every stored and queried vector. */
  readonly dimension: number
  readonly putSummary: (
    key: string,
    text: string,
    meta?: CacheMeta,
    options?: WriteOptions
  ) => Effect.Effect<void, CacheWriteError>
  readonly getSummary: (key: string) => Effect.Effect<Option.Option<Summary>, CacheError>
  /** Stores `vector` (normalised to unit length in the index; the hash covers the vector as given). */
  readonly putEmbedding: (
    key: string,
    vector: Float32Array,
    meta?: CacheMeta,
    options?: WriteOptions
  ) => Effect.Effect<void, CacheWriteError>
  /** The `k` (integer ≥ 0) live embeddings most cosine-similar to `vector`, best first (ties by key). */
  readonly search: (vector: Float32Array, k: number) => Effect.Effect<ReadonlyArray<SearchHit>, CacheError>
  readonly putDocument: (document: DocumentInput) => Effect.Effect<void, CacheWriteError>
  readonly getDocument: (key: string) => Effect.Effect<Option.Option<CachedDocument>, CacheError>
  /**
   * Deletes every entry (all namespaces) whose provenance names `taskId`, from the file and the
   * index; returns how many were deleted. Fails with `CacheError` `invalid-argument` for a task id
   * that is not 1–256 characters.
   */
  readonly purgeByTask: (taskId: string) => Effect.Effect<number, CacheError>
  /** Deletes every expired entry now; returns how many were deleted. */
  readonly purgeExpired: () => Effect.Effect<number, CacheError>
  /**
   * A view of this cache whose writes record `taskId` in their provenance unless they name another
   * one. Everything else (reads, close, destroy) is this cache's.
   */
  readonly forTask: (taskId: string) => SessionCache
  readonly stats: () => Effect.Effect<CacheStats, CacheError>
  /** Current quota use and limits of this session. */
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
 * - `maxEntries`: entries allowed over all namespaces together, integer ≥ 1, default
 *   `DEFAULT_MAX_ENTRIES` (10,000).
 * - `maxBytes`: sealed value bytes allowed over all namespaces (each value is its plaintext record
 *   + 28 bytes; keys and SQLite overhead are not counted), integer ≥ 1, default
 *   `DEFAULT_MAX_BYTES` (64 MiB).
 * - `maxFileBytes`: hard cap on the database file (`PRAGMA max_page_count`), integer ≥ 65536,
 *   default unlimited; a write past it fails with `QuotaExceeded` reason `disk`.
 * - `defaultTtlSeconds`: TTL of writes that give none, integer in `[1, MAX_TTL_SECONDS]`, default
 *   `DEFAULT_TTL_SECONDS` (86,400 = one day).
 * - `purgeIntervalSeconds`: period of the background purge of expired entries, integer ≥ 1,
 *   default 60; the purge fiber lives in the cache's scope.
 * - `tenantQuota`: the tenant-wide budget this session also draws on (the registry passes its own).
 */
export interface SessionCacheOptions {
  readonly rootDir: string
  readonly tenant: string
  readonly session: string
  readonly dimension: number
  readonly dataKey: Uint8Array
  readonly maxEntries?: number
  readonly maxBytes?: number
  readonly maxFileBytes?: number
  readonly defaultTtlSeconds?: number
  readonly purgeIntervalSeconds?: number
  readonly tenantQuota?: TenantQuota
}

/**
 * A budget of entries and sealed bytes shared by every open session cache of one tenant (see
 * `makeTenantQuota`). Caches charge it before each write and refund it when entries are deleted
 * or the cache closes.
 */
export interface TenantQuota {
  readonly maxEntries: number
  readonly maxBytes: number
  /** Entries and bytes currently charged by the tenant's open caches. */
  readonly used: () => { readonly entries: number; readonly bytes: number }
  /** `QuotaExceeded` (scope `tenant`) if growing by `entries`/`bytes` would pass a limit, else `undefined`. */
  readonly check: (entries: number, bytes: number) => QuotaExceeded | undefined
  /** Adds (or, with negative values, refunds) `entries` and `bytes`. */
  readonly charge: (entries: number, bytes: number) => void
}
