/**
 * The worker's registry of open session caches. A registry is bound to ONE tenant and holds at
 * most one open cache per session; a cache is reachable only by its own session id, so one
 * session can never read another session's entries through it (threat MC-01). Code running
 * bound to a session (see `CacheBinding`) can reach only that session's cache through it. The
 * registry also holds the tenant's quota: entries and sealed bytes summed over its open sessions,
 * checked before every write of any of them.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { checkBinding, currentBinding } from "./CacheBinding.js"
import { sessionCachePath, validateIdentifier } from "./CachePath.js"
import type { CacheUsage, SessionCache } from "./CacheTypes.js"
import { CacheError, CacheScopeError, type InvalidIdentifier } from "./Errors.js"
import { isPositiveInteger } from "./internal/checks.js"
import { removeSessionFiles } from "./internal/files.js"
import { DEFAULT_TENANT_MAX_BYTES, DEFAULT_TENANT_MAX_ENTRIES, makeTenantQuota } from "./internal/Quota.js"
import { isDataKey } from "./internal/Seal.js"
import { openSessionCache } from "./SessionCache.js"

/**
 * Configuration of a registry: the caches' root directory, the bound tenant, the vector dimension,
 * the per-session options passed to every `openSessionCache` (`maxEntries`, `maxBytes`,
 * `maxFileBytes`, `defaultTtlSeconds`, `purgeIntervalSeconds`: see `SessionCacheOptions`), and the
 * tenant's quota over its open sessions: `tenantMaxEntries` (integer ≥ 1, default
 * `DEFAULT_TENANT_MAX_ENTRIES` = 100,000) and `tenantMaxBytes` (sealed bytes, integer ≥ 1, default
 * `DEFAULT_TENANT_MAX_BYTES` = 512 MiB).
 */
export interface SessionCacheRegistryOptions {
  readonly rootDir: string
  readonly tenant: string
  readonly dimension: number
  readonly maxEntries?: number
  readonly maxBytes?: number
  readonly maxFileBytes?: number
  readonly defaultTtlSeconds?: number
  readonly purgeIntervalSeconds?: number
  readonly tenantMaxEntries?: number
  readonly tenantMaxBytes?: number
}

/** Operations of the {@link SessionCacheRegistry} service. */
export interface SessionCacheRegistryService {
  /** The tenant this registry is bound to. */
  readonly tenant: string
  /**
   * Opens the session's cache with its 32-byte AES-256 `dataKey` (from the broker; copied, kept
   * in memory only, zeroed when the cache closes), or returns the one already open (idempotent;
   * concurrent calls open the file once). Fails with `CacheScopeError` `E_TENANT_MISMATCH` when
   * `tenant` is not the bound tenant, `InvalidIdentifier` for a bad session id, `CacheError`
   * `invalid-argument` when `dataKey` is not 32 bytes, `corrupt` when it is not the key the cache
   * is open (or the file was created) with, `CacheScopeError` when the running code is bound to
   * another session (see `CacheBinding`), and otherwise as `openSessionCache`.
   */
  readonly open: (
    tenant: string,
    session: string,
    dataKey: Uint8Array
  ) => Effect.Effect<SessionCache, CacheError | CacheScopeError | InvalidIdentifier>
  /**
   * The open cache of `session`. Fails with `CacheScopeError` `E_CACHE_SCOPE`: `session-not-open`
   * when that session has no open cache in this registry (never opened here, closed or
   * destroyed), `session-mismatch` when the running code is bound to another session.
   */
  readonly get: (session: string) => Effect.Effect<SessionCache, CacheScopeError>
  /**
   * Ends a session's cache: closes it if open, then deletes its file, `-wal` and `-shm`. Also
   * deletes a file left behind when the session is not open here. Idempotent. Fails with
   * `CacheScopeError` when the running code is bound to another session.
   */
  readonly destroy: (session: string) => Effect.Effect<void, CacheError | CacheScopeError | InvalidIdentifier>
  /**
   * Destroys every cache open in this registry. Every cache is attempted; fails with the first
   * `CacheError` afterwards. Fails with `CacheScopeError` `session-mismatch` when called from code
   * bound to a session (it would reach other sessions' caches).
   */
  readonly destroyAll: () => Effect.Effect<void, CacheError | CacheScopeError>
  /** Ids of the sessions with an open cache here. */
  readonly sessions: () => ReadonlyArray<string>
  /** The tenant's quota use: entries and sealed bytes over its open sessions, and the limits. */
  readonly tenantUsage: () => CacheUsage
}

const notOpen = () => new CacheScopeError({ code: "E_CACHE_SCOPE", reason: "session-not-open" })
/** Fails when the running code is bound to any session (see `CacheBinding`). */
const unbound = Effect.flatMap(FiberRef.get(currentBinding), (binding) =>
  Option.isSome(binding)
    ? Effect.fail(new CacheScopeError({ code: "E_CACHE_SCOPE", reason: "session-mismatch" }))
    : Effect.void
)
const tenantMismatch = () => new CacheScopeError({ code: "E_TENANT_MISMATCH", reason: "tenant-mismatch" })

/**
 * Builds a registry bound to `options.tenant` in the current scope. Closing the scope closes every
 * cache opened through the registry (files are kept; use `destroy`/`destroyAll` to delete them).
 *
 * Fails with `InvalidIdentifier` when `tenant` is not a valid identifier, `CacheError`
 * `invalid-argument` when a tenant limit is not a positive integer.
 */
export const makeSessionCacheRegistry = (
  options: SessionCacheRegistryOptions
): Effect.Effect<SessionCacheRegistryService, InvalidIdentifier | CacheError, Scope.Scope> =>
  Effect.gen(function* () {
    const tenant = yield* validateIdentifier("tenant", options.tenant)
    const limits = {
      maxEntries: options.tenantMaxEntries ?? DEFAULT_TENANT_MAX_ENTRIES,
      maxBytes: options.tenantMaxBytes ?? DEFAULT_TENANT_MAX_BYTES
    }
    if (!isPositiveInteger(limits.maxEntries) || !isPositiveInteger(limits.maxBytes))
      return yield* Effect.fail(new CacheError({ reason: "invalid-argument" }))
    const tenantQuota = makeTenantQuota(limits)
    const scope = yield* Effect.scope
    const lock = yield* Effect.makeSemaphore(1)
    const sessionOptions = Object.fromEntries(
      (["maxEntries", "maxBytes", "maxFileBytes", "defaultTtlSeconds", "purgeIntervalSeconds"] as const)
        .filter((name) => options[name] !== undefined)
        .map((name) => [name, options[name]])
    ) as Pick<
      SessionCacheRegistryOptions,
      "maxEntries" | "maxBytes" | "maxFileBytes" | "defaultTtlSeconds" | "purgeIntervalSeconds"
    >
    // each open cache with a copy of its key, to check the key of later `open` calls
    const caches = new Map<string, { readonly cache: SessionCache; readonly key: Buffer }>()
    const forget = (session: string) => {
      caches.get(session)?.key.fill(0)
      caches.delete(session)
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => [...caches.keys()].forEach(forget)))

    const lookup = (session: string) => {
      const entry = caches.get(session)
      if (entry !== undefined && !entry.cache.isOpen()) {
        forget(session)
        return undefined
      }
      return entry
    }

    const destroyOne = (session: string, path: string) =>
      Effect.suspend(() => {
        const cache = caches.get(session)?.cache
        forget(session)
        return cache === undefined ? removeSessionFiles(path) : cache.destroy()
      })

    const service: SessionCacheRegistryService = {
      tenant,
      open: (requested, session, dataKey) =>
        requested !== tenant
          ? Effect.fail(tenantMismatch())
          : !isDataKey(dataKey)
            ? Effect.fail(new CacheError({ reason: "invalid-argument" }))
            : Effect.zipRight(
                checkBinding(tenant, session),
                lock.withPermits(1)(
                  Effect.suspend(() => {
                    const existing = lookup(session)
                    if (existing !== undefined)
                      return timingSafeEqual(existing.key, dataKey)
                        ? Effect.succeed(existing.cache)
                        : Effect.fail(new CacheError({ reason: "corrupt" }))
                    return openSessionCache({
                      rootDir: options.rootDir,
                      tenant,
                      session,
                      dimension: options.dimension,
                      dataKey,
                      tenantQuota,
                      ...sessionOptions
                    }).pipe(
                      Scope.extend(scope),
                      Effect.tap((cache) =>
                        Effect.sync(() => caches.set(session, { cache, key: Buffer.from(dataKey) }))
                      )
                    )
                  })
                )
              ),
      get: (session) =>
        Effect.zipRight(
          checkBinding(tenant, session),
          Effect.suspend(() => {
            const entry = lookup(session)
            return entry === undefined ? Effect.fail(notOpen()) : Effect.succeed(entry.cache)
          })
        ),
      destroy: (session) =>
        Effect.zipRight(
          checkBinding(tenant, session),
          Effect.flatMap(sessionCachePath(options.rootDir, tenant, session), (path) =>
            lock.withPermits(1)(destroyOne(session, path))
          )
        ),
      destroyAll: () =>
        Effect.zipRight(
          unbound,
          lock.withPermits(1)(
            Effect.gen(function* () {
              const results = yield* Effect.forEach([...caches.values()], ({ cache }) =>
                Effect.either(destroyOne(cache.session, cache.path))
              )
              for (const result of results) if (Either.isLeft(result)) return yield* Effect.fail(result.left)
            })
          )
        ),
      sessions: () => [...caches.keys()].filter((session) => lookup(session) !== undefined),
      tenantUsage: () => ({ ...tenantQuota.used(), maxEntries: limits.maxEntries, maxBytes: limits.maxBytes })
    }
    return service
  }).pipe(Effect.withSpan("SessionCacheRegistry.make", { attributes: { "cordon.tenant": options.tenant } }))

/**
 * Tag of the worker's session cache registry. Provide it with {@link SessionCacheRegistry.layer}.
 */
export class SessionCacheRegistry extends Context.Tag("@cordon/cache/SessionCacheRegistry")<
  SessionCacheRegistry,
  SessionCacheRegistryService
>() {
  /**
   * Scoped layer of a registry bound to `options.tenant`; releasing the layer closes every open
   * cache without deleting files. Fails with `InvalidIdentifier` for a bad tenant id, `CacheError`
   * for a bad tenant limit.
   */
  static readonly layer = (
    options: SessionCacheRegistryOptions
  ): Layer.Layer<SessionCacheRegistry, InvalidIdentifier | CacheError> =>
    Layer.scoped(SessionCacheRegistry, makeSessionCacheRegistry(options))
}
