/**
 * The broker's revocation authority. Revokes credentials by token, root task, session, agent or whole
 * tenant — always within one tenant — and makes the revocation hold everywhere: the in-memory list every
 * broker-side verification reads, the control-plane store (so it survives a restart: the list is rebuilt
 * from it at boot), and the tenant's worker (pushed at once, then re-synced on a heartbeat so a worker can
 * tell when its view is stale and fail closed). Revoking a token also kills every token delegated from it:
 * verification checks the revocation status of every ancestor in a chain (`ancestor_revoked`).
 */
import { RevocationList, type RevocationReason } from "@cordon/identity/RevocationList"
import { Credentials } from "@cordon/store/Credentials"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Revoke } from "./Protocol.js"
import { RuntimeConfig } from "./RuntimeConfig.js"
import { TenantWorkerPool } from "./TenantWorkerPool.js"

/** Which of a tenant's credentials to revoke; every given field must match; `{}` means all of them. */
export interface RevocationSelector {
  readonly jti?: string | undefined
  readonly task?: string | undefined
  readonly session?: string | undefined
  readonly agent?: string | undefined
}

export interface RevocationsApi {
  /**
   * Revokes the tenant's credentials matching `selector` for `reason`. Returns the ids revoked by this
   * call (already-revoked ones are not repeated). Idempotent.
   */
  readonly revoke: (
    tenant: string,
    selector: RevocationSelector,
    reason: RevocationReason
  ) => Effect.Effect<ReadonlyArray<string>>
  /** Revokes known token ids of `tenant` (`exp` in epoch seconds, kept until then). */
  readonly revokeIds: (
    tenant: string,
    tokens: ReadonlyArray<{ readonly jti: string; readonly exp: number }>,
    reason: RevocationReason
  ) => Effect.Effect<void>
}

export class Revocations extends Context.Tag("@cordon/runtime/Revocations")<Revocations, RevocationsApi>() {}

export const make = Effect.gen(function* () {
  const config = yield* RuntimeConfig
  const list = yield* RevocationList
  const credentials = yield* Credentials
  const pool = yield* TenantWorkerPool

  // Rebuild the in-memory list from the store: a restart forgets nothing that is still unexpired.
  const persisted = yield* credentials.listRevokedAll(Math.floor(Date.now() / 1000)).pipe(Effect.orDie)
  for (const row of persisted) yield* list.revoke([row.jti], "manual", row.exp)

  const push = (tenant: string, jtis: ReadonlyArray<string>) =>
    pool.ifLive(tenant, (worker) =>
      worker.executeEffect(new Revoke({ jtis: [...jtis], version: list.version() }))
    )

  const revokeIds: RevocationsApi["revokeIds"] = (tenant, tokens, reason) =>
    Effect.gen(function* () {
      if (tokens.length === 0) return
      for (const t of tokens) yield* list.revoke([t.jti], reason, t.exp)
      yield* credentials
        .revoke(
          tokens.map((t) => t.jti),
          reason,
          Date.now()
        )
        .pipe(Effect.ignoreLogged)
      yield* push(
        tenant,
        tokens.map((t) => t.jti)
      )
    }).pipe(Effect.timeout(Duration.seconds(5)), Effect.ignoreLogged)

  const revoke: RevocationsApi["revoke"] = (tenant, selector, reason) =>
    Effect.gen(function* () {
      const defined = Object.fromEntries(Object.entries(selector).filter(([, v]) => v !== undefined))
      const rows = yield* credentials.select({ tenant, ...defined }).pipe(Effect.orDie)
      const fresh = rows.filter((r) => !r.revoked && !list.isRevoked(r.jti))
      yield* revokeIds(tenant, fresh, reason)
      return fresh.map((r) => r.jti)
    })

  // Heartbeat: every live worker hears the current list version regularly; a worker that has not heard
  // from the broker within `revocationStaleMs` refuses tool calls until it has.
  const heartbeat = Effect.flatMap(pool.live, (tenants) =>
    Effect.forEach(tenants, (t) => push(t, []), { discard: true })
  )
  yield* Effect.forkScoped(
    Effect.repeat(heartbeat, Schedule.spaced(Duration.millis(config.revocationSyncMs)))
  )

  return Revocations.of({ revoke, revokeIds })
})

export const layer = Layer.scoped(Revocations, make)
