/**
 * Domain errors of `@cordon/cache`. Every error carries a stable `code` and a `reason`; messages
 * never contain cached content, keys, tokens or tenant data.
 *
 * @module
 */
import * as Schema from "effect/Schema"

/**
 * Why a {@link CacheError} happened.
 *
 * - `io`: the session directory or file could not be created, checked or removed.
 * - `sql`: SQLite failed (open, pragma, statement).
 * - `dimension`: a vector's length, or the dimension of an existing file, differs from the cache's.
 * - `closed`: the handle was closed or destroyed.
 * - `invalid-argument`: a key, `k`, vector value, `meta`, data key or quota is not acceptable.
 * - `corrupt`: a stored value does not authenticate or decode (wrong data key, a value copied from
 *   another session, namespace or entry key, a tampered value, or a file of another layout).
 */
export const CacheErrorReason = Schema.Literal(
  "io",
  "sql",
  "dimension",
  "closed",
  "invalid-argument",
  "corrupt"
)
export type CacheErrorReason = typeof CacheErrorReason.Type

/** Failure of a session cache operation. `code` is always `E_CACHE`. */
export class CacheError extends Schema.TaggedError<CacheError>()("CacheError", {
  code: Schema.Literal("E_CACHE").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_CACHE" as const)
  ),
  reason: CacheErrorReason,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `session cache failure: ${this.reason}`
  }
}

/**
 * A cache outside the caller's reach was requested.
 *
 * - `E_CACHE_SCOPE` / `session-not-open`: the session has no open cache in this worker's registry
 *   (caches of other sessions are never reachable).
 * - `E_CACHE_SCOPE` / `session-mismatch`: code running for one session (see `CacheBinding`) asked
 *   for, opened or ended the cache of another session (threat MC-01).
 * - `E_TENANT_MISMATCH` / `tenant-mismatch`: the registry (or the binding) is for another tenant.
 */
export class CacheScopeError extends Schema.TaggedError<CacheScopeError>()("CacheScopeError", {
  code: Schema.Literal("E_CACHE_SCOPE", "E_TENANT_MISMATCH"),
  reason: Schema.Literal("session-not-open", "session-mismatch", "tenant-mismatch")
}) {
  override get message(): string {
    return `session cache out of scope: ${this.reason}`
  }
}

/**
 * A tenant or session identifier does not match `^[a-z0-9][a-z0-9-]{0,62}$`. The offending value
 * is not echoed back.
 */
export class InvalidIdentifier extends Schema.TaggedError<InvalidIdentifier>()("InvalidIdentifier", {
  code: Schema.Literal("E_INVALID_IDENTIFIER").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_INVALID_IDENTIFIER" as const)
  ),
  field: Schema.Literal("tenant", "session"),
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid ${this.field} identifier: ${this.reason}`
  }
}

/**
 * A cache write contained something shaped like a credential and was refused; nothing was written
 * (threat MC-05). `reason` names the shape, `field` where it was found; the value is not echoed.
 *
 * - `jws`: a compact JWS/JWT (`eyJ….eyJ….`).
 * - `pem`: a PEM block (`-----BEGIN`).
 * - `jwk-private`: a JWK private member (`"d":"`, RFC 7517 §4 / RFC 7518 §6.2.2).
 */
export class SecretInCacheError extends Schema.TaggedError<SecretInCacheError>()("SecretInCacheError", {
  code: Schema.Literal("E_SECRET_IN_CACHE").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_SECRET_IN_CACHE" as const)
  ),
  reason: Schema.Literal("jws", "pem", "jwk-private"),
  field: Schema.Literal("text", "meta", "source", "content")
}) {
  override get message(): string {
    return `credential-shaped value refused in cache ${this.field}: ${this.reason}`
  }
}

/**
 * A write would take a cache past a limit and was refused; nothing was written, the file is intact.
 *
 * - `reason`: `entries` (entry count across all namespaces), `bytes` (sealed value bytes) or `disk`
 *   (SQLite reported `SQLITE_FULL`: the file reached `maxFileBytes` or the disk is full).
 * - `scope`: `session` (this session's limits or file) or `tenant` (the sum over the tenant's open
 *   sessions, enforced by the registry).
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  code: Schema.Literal("E_QUOTA_EXCEEDED").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_QUOTA_EXCEEDED" as const)
  ),
  reason: Schema.Literal("entries", "bytes", "disk"),
  scope: Schema.Literal("session", "tenant").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "session" as const)
  )
}) {
  override get message(): string {
    return `${this.scope} cache quota exceeded: ${this.reason}`
  }
}

/**
 * An embedding could not be produced. `code` is always `E_EMBEDDING`; messages never contain the
 * input text, the provider's URL or its api key.
 *
 * - `dimension`: the model returned a vector whose length is not the configured dimension.
 * - `malformed`: the model returned something that is not a finite number vector (or no vector).
 * - `provider`: the request failed (transport error, HTTP status, unreadable response); `status`
 *   carries the HTTP status when there was one.
 */
export class EmbeddingError extends Schema.TaggedError<EmbeddingError>()("EmbeddingError", {
  code: Schema.Literal("E_EMBEDDING").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_EMBEDDING" as const)
  ),
  reason: Schema.Literal("dimension", "malformed", "provider"),
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `embedding failed: ${this.reason}${this.status === undefined ? "" : ` (HTTP ${this.status})`}`
  }
}
