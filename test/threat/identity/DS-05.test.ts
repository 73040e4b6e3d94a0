/**
 * DS-05 — a handoff crosses tenants. The tenant is fixed at the root grant; every hop must carry
 * it, and there is no cross-tenant grant: a chain of tenant A cannot be exchanged or verified as
 * tenant B's, a hop switching tenant is refused, and B's keys never verify A's tokens.
 */
import { KeyRing, TokenService, tenantIssuer, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  A,
  agentUri,
  atNow,
  B,
  childOf,
  exchangeRequest,
  expectRefusal,
  forge,
  Identity,
  rootRequest,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

describe("DS-05 cross-tenant handoff", () => {
  it.effect("DS-05 exchanging tenant A's chain as tenant B fails with TenantMismatch and mints nothing", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      yield* tokens.jwks(B)
      const { chain } = yield* threeHop
      const before = yield* signatures
      const err = yield* Effect.flip(
        tokens.exchange(exchangeRequest(chain, { tenant: B, toAgent: "billing" }))
      )
      expectRefusal(err, "E_TENANT_MISMATCH", "tnt")
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-05 a broker verifying A's chain for tenant B, even holding both key sets, refuses it", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { chain } = yield* threeHop
      const both = { keys: [...(yield* tokens.jwks(A)).keys, ...(yield* tokens.jwks(B)).keys] }
      const options = yield* verifyOptions({ tenant: B, issuer: tenantIssuer(B), jwks: both })
      expectRefusal(yield* Effect.flip(verifyChain(chain, options)), "E_TENANT_MISMATCH", "tnt")
      const inWorkerB = yield* verifyOptions({
        tenant: B,
        issuer: tenantIssuer(B),
        jwks: yield* tokens.jwks(B)
      })
      expectRefusal(yield* Effect.flip(verifyChain(chain, inWorkerB)), "E_TOKEN_INVALID", "kid")
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-05 a hop that switches tenant (signed with A's own key) fails with TenantMismatch", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const options = yield* verifyOptions()
      const subB = agentUri(B, "billing")
      const variants = [{ tnt: B }, { tnt: B, sub: subB, aud: subB }, { sub: subB, aud: subB }]
      for (const overrides of variants) {
        const forged = yield* forge(A, childOf(chain[1]!, "billing", overrides))
        expectRefusal(
          yield* Effect.flip(verifyChain([chain[0]!, chain[1]!, forged], options)),
          "E_TENANT_MISMATCH"
        )
      }
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-05 a tenant's key never signs another tenant's token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const ring = yield* KeyRing
      const a = yield* tokens.mintRoot(rootRequest())
      const b = yield* tokens.mintRoot(rootRequest({ tenant: B }))
      const kidOf = (t: string) => JSON.parse(Buffer.from(t.split(".")[0]!, "base64url").toString()).kid
      expect(kidOf(a.token)).toBe((yield* ring.signingKey(A)).kid)
      expect(kidOf(b.token)).toBe((yield* ring.signingKey(B)).kid)
      expect(kidOf(a.token)).not.toBe(kidOf(b.token))
    }).pipe(Effect.provide(Identity))
  )
})
