/**
 * DS-01 — a child gets more than its parent. Delegation only narrows: the child's scopes are a
 * subset of the parent's and of what the target may hold, its `exp` never passes the parent's, and
 * tenant, session and intent are copied, never chosen. A refused exchange signs nothing.
 */
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import {
  agentUri,
  atNow,
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

describe("DS-01 delegation only narrows", () => {
  it.effect("DS-01 a child asking for more scope than its parent gets ScopeEscalation and no token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ scopes: ["crm:read", "mail:read"] }))
      const before = yield* signatures
      const cases = [
        [["crm:read", "crm:write"], ["crm:read", "crm:write"], "exceeds_parent"],
        [["crm:read", "mail:read"], ["crm:read"], "exceeds_allowed"],
        [["payments:refund"], ["payments:refund"], "empty"]
      ] as const
      for (const [requestedScopes, allowedScopes, reason] of cases) {
        const err = yield* Effect.flip(
          tokens.exchange(exchangeRequest([root.token], { requestedScopes, allowedScopes }))
        )
        expectRefusal(err, "E_SCOPE_ESCALATION", reason)
      }
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "DS-01 a longer TTL than the parent's is clipped to the parent's exp; above the maximum it is refused",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const tokens = yield* TokenService
        const root = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 60 }))
        yield* TestClock.adjust("10 seconds")
        const child = yield* tokens.exchange(exchangeRequest([root.token], { ttlSeconds: 300 }))
        expect(child.claims.exp).toBe(root.claims.exp)
        const before = yield* signatures
        const err = yield* Effect.flip(tokens.exchange(exchangeRequest([root.token], { ttlSeconds: 86_400 })))
        expectRefusal(err, "E_TOKEN_POLICY", "ttl")
        expect(yield* signatures).toBe(before)
      }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "DS-01 tenant, session and intent are copied from the parent; asking for another intent is refused",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const tokens = yield* TokenService
        const root = yield* tokens.mintRoot(rootRequest())
        const child = yield* tokens.exchange(exchangeRequest([root.token]))
        expect(child.claims).toMatchObject({
          tnt: root.claims.tnt,
          sid: root.claims.sid,
          txn: root.claims.txn,
          usr: root.claims.usr,
          int: root.claims.int,
          sub: agentUri(root.claims.tnt, "researcher")
        })
        const before = yield* signatures
        const err = yield* Effect.flip(
          tokens.exchange(exchangeRequest([root.token], { intent: "send_payment" }))
        )
        expectRefusal(err, "E_TOKEN_POLICY", "intent")
        expect(yield* signatures).toBe(before)
      }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "DS-01 a child forged with the tenant's own key but a wider scope or a later exp fails verification",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const { chain, hop1 } = yield* threeHop
        const options = yield* verifyOptions()
        const wider = yield* forge(
          "tenant-a",
          childOf(chain[1]!, "writer", { scp: ["crm:read", "crm:write"] })
        )
        expectRefusal(
          yield* Effect.flip(verifyChain([chain[0]!, chain[1]!, wider], options)),
          "E_DELEGATION_CHAIN",
          "scope_widened"
        )
        const later = yield* forge("tenant-a", childOf(chain[1]!, "writer", { exp: hop1.claims.exp + 600 }))
        expectRefusal(
          yield* Effect.flip(verifyChain([chain[0]!, chain[1]!, later], options)),
          "E_DELEGATION_CHAIN",
          "expiry_extended"
        )
      }).pipe(Effect.provide(Identity))
  )
})
