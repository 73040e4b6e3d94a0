/**
 * `@cordon/cache`: per-session caches (summaries, embeddings with vector search, retrieved
 * documents) in one SQLite file per session, the worker's registry of open caches, and embedders.
 *
 * @module
 */
export { IDENTIFIER_PATTERN, sessionCacheFiles, sessionCachePath, validateIdentifier } from "./CachePath.js"
export { cosine, type Embedder, featureHashEmbedder, fnv1a32, normalize, norm, words } from "./Embedder.js"
export { CacheError, CacheErrorReason, CacheScopeError, InvalidIdentifier } from "./Errors.js"
export {
  type CachedDocument,
  type CacheMeta,
  type CacheStats,
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
