/**
 * Key lifecycle in the broker: scheduled rotation of each active tenant's signing key, immediate
 * retirement of a compromised key, and the push of the tenant's new JWKS to its worker so that the worker
 * verifies new tokens and stops trusting a retired key at once. Old tokens keep verifying through the
 * rotation overlap (≥ the longest token lifetime); a compromised key's tokens fail everywhere at once.
 */
import { KeyRing, type KeyRingError, type KeyStatus } from "@cordon/identity/KeyRing"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { publicJwks, UpdateKeys } from "./Protocol.js"
import { RuntimeConfig } from "./RuntimeConfig.js"
import { TenantWorkerPool } from "./TenantWorkerPool.js"

export interface KeyManagerApi {
  /** Activates a new signing key for `tenant` and pushes the JWKS to its worker; returns the new `kid`. */
  readonly rotate: (tenant: string) => Effect.Effect<string, KeyRingError>
  /** Retires `kid` (with `compromised`, it leaves the JWKS at once) and pushes the JWKS to the worker. */
  readonly retire: (tenant: string, kid: string, compromised: boolean) => Effect.Effect<void, KeyRingError>
  /** The tenant's keys and their lifecycle (no key material). */
  readonly keys: (tenant: string) => Effect.Effect<ReadonlyArray<KeyStatus>, KeyRingError>
}

export class KeyManager extends Context.Tag("@cordon/runtime/KeyManager")<KeyManager, KeyManagerApi>() {}

export const make = Effect.gen(function* () {
  const config = yield* RuntimeConfig
  const ring = yield* KeyRing
  const pool = yield* TenantWorkerPool

  const push = (tenant: string) =>
    Effect.flatMap(ring.jwks(tenant), (jwks) =>
      pool.ifLive(tenant, (worker) => worker.executeEffect(new UpdateKeys({ jwks: publicJwks(jwks) })))
    )

  const rotate: KeyManagerApi["rotate"] = (tenant) => Effect.tap(ring.rotate(tenant), () => push(tenant))
  const retire: KeyManagerApi["retire"] = (tenant, kid, compromised) =>
    Effect.zipRight(ring.retire(tenant, kid, { compromised }), push(tenant))

  // Scheduled rotation of every tenant with a live worker; the refreshed JWKS (which also drops keys past
  // their overlap) is pushed whether or not a key was rotated.
  const sweep = Effect.flatMap(pool.live, (tenants) =>
    Effect.forEach(
      tenants,
      (tenant) =>
        ring.rotateIfOlderThan(tenant, config.keyMaxAgeSec).pipe(
          Effect.zipRight(push(tenant)),
          Effect.catchAll((e) => Effect.logWarning(`key rotation for ${tenant} failed: ${e.reason}`))
        ),
      { discard: true }
    )
  )
  yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(Duration.millis(config.keyRotationCheckMs))))

  return KeyManager.of({ rotate, retire, keys: ring.keys })
})

export const layer = Layer.scoped(KeyManager, make)
