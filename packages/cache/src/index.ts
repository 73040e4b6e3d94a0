/**
 * `@cordon/cache`: per-session caches (summaries, embeddings with vector search, retrieved
 * documents, each entry with a TTL and provenance) in one SQLite file per session, every value
 * sealed with the session's AES-256-GCM data key; the worker's registry of open caches with
 * per-tenant quotas; the session binding; embedders and `@effect/ai` embedding models.
 *
 * @module
 */
export { bindSession, type CacheBinding, checkBinding, currentBinding } from "./CacheBinding.js"
export { IDENTIFIER_PATTERN, sessionCacheFiles, sessionCachePath, validateIdentifier } from "./CachePath.js"
export { cosine, type Embedder, featureHashEmbedder, fnv1a32, normalize, norm, words } from "./Embedder.js"
export {
  embedVector,
  featureHashEmbeddingModel,
  featureHashLayer,
  layer as embeddingLayer,
  type EmbeddingConfig,
  type OpenAiCompatibleConfig,
  openAiCompatibleLayer
} from "./Embedding.js"
export {
  CacheError,
  CacheErrorReason,
  CacheScopeError,
  EmbeddingError,
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
  DEFAULT_TENANT_MAX_BYTES,
  DEFAULT_TENANT_MAX_ENTRIES,
  DEFAULT_TTL_SECONDS,
  type DocumentInput,
  MAX_TTL_SECONDS,
  MIN_FILE_BYTES,
  makeTenantQuota,
  openSessionCache,
  type Provenance,
  type SearchHit,
  type SessionCache,
  type SessionCacheOptions,
  type Summary,
  type TenantQuota,
  type Trust,
  type WriteOptions
} from "./SessionCache.js"
export {
  makeSessionCacheRegistry,
  SessionCacheRegistry,
  type SessionCacheRegistryOptions,
  type SessionCacheRegistryService
} from "./SessionCacheRegistry.js"
