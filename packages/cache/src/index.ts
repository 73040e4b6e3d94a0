/**
 * `@cordon/cache`: per-session caches (summaries, embeddings with vector search, retrieved
 * documents) in one SQLite file per session, every value sealed with the session's AES-256-GCM
 * data key; the worker's registry of open caches; embedders.
 *
 * @module
 */
export { IDENTIFIER_PATTERN, sessionCacheFiles, sessionCachePath, validateIdentifier } from "./CachePath.js"
export { cosine, type Embedder, featureHashEmbedder, fnv1a32, normalize, norm, words } from "./Embedder.js"
export {
  CacheError,
  CacheErrorReason,
  CacheScopeError,
  InvalidIdentifier,
  QuotaExceeded,
  SecretInCacheError
} from "./Errors.js"
export {
  type CachedDocument,
  type CacheMeta,
  type CacheStats,
  type CacheUsage,
  type CacheWriteError,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ENTRIES,
  type DocumentInput,
  openSessionCache,
  type SearchHit,
  type SessionCache,
  type SessionCacheOptions,
  type Summary
} from "./SessionCache.js"
export {
  makeSessionCacheRegistry,
  SessionCacheRegistry,
  type SessionCacheRegistryOptions,
  type SessionCacheRegistryService
} from "./SessionCacheRegistry.js"
