/**
 * Binding of running code to one session's cache (threat MC-01). The runtime runs each agent (and
 * the tool handlers it calls) under {@link bindSession} with the tenant and session of its verified
 * token; while bound, `SessionCacheRegistry.get/open/destroy` and `openSessionCache` refuse any
 * other session or tenant with `CacheScopeError`, so code of session S2 that reaches for the
 * worker's registry still cannot open the cache of session S1, even in the same tenant's worker.
 * Code that is not bound (the worker's own message handlers) is not restricted by this module.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import { CacheScopeError } from "./Errors.js"

/** The tenant and session that running code may reach the cache of. */
export interface CacheBinding {
  readonly tenant: string
  readonly session: string
}

/** The current fiber's binding; `None` outside any agent run. */
export const currentBinding: FiberRef.FiberRef<Option.Option<CacheBinding>> = globalValue(
  Symbol.for("@cordon/cache/CacheBinding"),
  () => FiberRef.unsafeMake<Option.Option<CacheBinding>>(Option.none())
)

/**
 * Runs `self` bound to (`tenant`, `session`): inside it (and in every fiber it forks) only that
 * session's cache can be reached. A binding cannot be widened: binding already-bound code to
 * another session makes every cache unreachable to it.
 */
export const bindSession =
  (tenant: string, session: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(FiberRef.get(currentBinding), (current) => {
      const conflicting =
        Option.isSome(current) && (current.value.tenant !== tenant || current.value.session !== session)
      // code that tries to rebind itself elsewhere keeps its tenant and loses every session (no id is empty)
      const next = conflicting ? { tenant: current.value.tenant, session: "" } : { tenant, session }
      return Effect.locally(self, currentBinding, Option.some(next))
    })

/**
 * Succeeds when the current fiber may reach the cache of (`tenant`, `session`): it is unbound, or
 * bound to exactly that pair. Fails with `CacheScopeError` `E_TENANT_MISMATCH`/`tenant-mismatch`
 * when bound to another tenant, `E_CACHE_SCOPE`/`session-mismatch` when bound to another session.
 */
export const checkBinding = (tenant: string, session: string): Effect.Effect<void, CacheScopeError> =>
  Effect.flatMap(FiberRef.get(currentBinding), (current) => {
    if (Option.isNone(current)) return Effect.void
    if (current.value.tenant !== tenant)
      return Effect.fail(new CacheScopeError({ code: "E_TENANT_MISMATCH", reason: "tenant-mismatch" }))
    if (current.value.session !== session)
      return Effect.fail(new CacheScopeError({ code: "E_CACHE_SCOPE", reason: "session-mismatch" }))
    return Effect.void
  })
