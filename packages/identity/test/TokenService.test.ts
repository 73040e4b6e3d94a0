import { describe, expect, it } from "@effect/vitest"
import { decodeProtectedHeader } from "jose"
import { Effect, Layer, TestClock } from "effect"
import {
  type ExchangeRequest,
  KeyRing,
  RevocationList,
  TokenService,
  tenantIssuer,
  tokenHash,
  verifyChain
} from "../src/index.js"
import { A, agentUri, atNow, B, NOW, rootRequest, TD, TestLayer, threeHop, verifyOptions } from "./support.js"

const failure = <X, E, R>(self: Effect.Effect<X, E, R>) => Effect.flip(self)

const exchangeFrom = (
  chain: ReadonlyArray<string>,
  overrides: Partial<ExchangeRequest> = {}
): ExchangeRequest => ({
  chain,
  toAgent: "researcher",
  intent: "triage_inbox",
  requestedScopes: ["crm:read"],
  allowedScopes: ["crm:read", "mail:read"],
  ttlSeconds: 60,
  maxDepth: 4,
  trustDomain: TD,
  ...overrides
})

describe("TokenService.mintRoot", () => {
  it.effect("mints the exact claim profile with an EdDSA cordon-task+jwt header", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { token, claims } = yield* tokens.mintRoot(
        rootRequest({ scopes: ["mail:read", "crm:read", "mail:read"] })
      )
      const header = decodeProtectedHeader(token)
      const { kid } = yield* (yield* KeyRing).signingKey(A)
      expect(header).toEqual({ alg: "EdDSA", typ: "cordon-task+jwt", kid })
      expect(claims).toEqual({
        iss: "https://cordon.local/tenant/tenant-a",
        sub: agentUri(A, "orchestrator"),
        aud: agentUri(A, "orchestrator"),
        tnt: A,
        sid: "sess-1",
        usr: "alice@example.com",
        txn: "task-1",
        int: "triage_inbox",
        scp: ["crm:read", "mail:read"],
        iat: NOW,
        nbf: NOW,
        exp: NOW + 120,
        jti: claims.jti,
        dep: 0
      })
      expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/)
      expect(tokens.issuer(A)).toBe(tenantIssuer(A))
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("LS-01 exp is capped at the session end; a TTL above the maximum is refused", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const capped = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 300, notAfter: NOW + 45 }))
      expect(capped.claims.exp).toBe(NOW + 45)
      for (const ttlSeconds of [86_400, 0, -5, 1.5]) {
        expect(yield* failure(tokens.mintRoot(rootRequest({ ttlSeconds })))).toMatchObject({
          code: "E_TOKEN_POLICY",
          reason: "ttl"
        })
      }
      expect(yield* failure(tokens.mintRoot(rootRequest({ notAfter: NOW })))).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "expired"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("TM-07 wildcard scopes and empty scope sets are refused with E_TOKEN_POLICY", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      for (const scopes of [["*"], ["crm:*"], ["mail:read", "*:write"]]) {
        expect(yield* failure(tokens.mintRoot(rootRequest({ scopes })))).toMatchObject({
          code: "E_TOKEN_POLICY",
          reason: "wildcard"
        })
      }
      expect(yield* failure(tokens.mintRoot(rootRequest({ scopes: [] })))).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "scope_empty"
      })
      expect(yield* failure(tokens.mintRoot(rootRequest({ scopes: ["crm read"] })))).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "scope_invalid"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("malformed identifiers and intents are refused", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const bad = [
        { tenant: "Tenant-A" },
        { session: "../s" },
        { agent: ".." },
        { trustDomain: "Cordon.Test" },
        { user: "alice smith" },
        { txn: "" }
      ]
      for (const overrides of bad) {
        expect(yield* failure(tokens.mintRoot(rootRequest(overrides)))).toMatchObject({
          code: "E_TOKEN_POLICY",
          reason: "identifier"
        })
      }
      expect(yield* failure(tokens.mintRoot(rootRequest({ intent: "do anything" })))).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "intent"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("each tenant's tokens are signed with its own key", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const a = yield* tokens.mintRoot(rootRequest())
      const b = yield* tokens.mintRoot(rootRequest({ tenant: B }))
      expect(decodeProtectedHeader(a.token).kid).not.toBe(decodeProtectedHeader(b.token).kid)
      expect((yield* tokens.jwks(B)).keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(b.token).kid])
    }).pipe(Effect.provide(TestLayer))
  )
})

describe("TokenService.exchange", () => {
  it.effect("DS-01 the child narrows: requested scopes, capped exp, prev, act, same bindings", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 60 }))
      yield* TestClock.adjust("10 seconds")
      const child = yield* tokens.exchange(exchangeFrom([root.token], { ttlSeconds: 300 }))
      expect(child.claims).toMatchObject({
        sub: agentUri(A, "researcher"),
        aud: agentUri(A, "researcher"),
        tnt: A,
        sid: "sess-1",
        usr: "alice@example.com",
        txn: "task-1",
        int: "triage_inbox",
        iss: root.claims.iss,
        scp: ["crm:read"],
        iat: NOW + 10,
        nbf: NOW + 10,
        exp: root.claims.exp,
        dep: 1,
        prev: tokenHash(root.token),
        act: { sub: agentUri(A, "orchestrator") }
      })
      const verified = yield* verifyChain(
        [root.token, child.token],
        verifyOptions(yield* tokens.jwks(A), { now: new Date((NOW + 10) * 1000) })
      )
      expect(verified.leaf).toEqual(child.claims)
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-01 DS-04 scope escalation is refused, never silently narrowed", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ scopes: ["crm:read", "mail:read"] }))
      const cases: Array<[Partial<ExchangeRequest>, string]> = [
        [
          { requestedScopes: ["crm:read", "crm:write"], allowedScopes: ["crm:read", "crm:write"] },
          "exceeds_parent"
        ],
        [{ requestedScopes: ["crm:read", "mail:read"], allowedScopes: ["crm:read"] }, "exceeds_allowed"],
        [{ requestedScopes: ["payments:refund"], allowedScopes: ["payments:refund"] }, "empty"]
      ]
      for (const [overrides, reason] of cases) {
        const err = yield* failure(tokens.exchange(exchangeFrom([root.token], overrides)))
        expect(err).toMatchObject({ code: "E_SCOPE_ESCALATION", reason })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("TM-07 wildcard and empty requested scopes are refused with E_TOKEN_POLICY", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest())
      for (const overrides of [{ requestedScopes: ["*"] }, { allowedScopes: ["*"] }]) {
        expect(yield* failure(tokens.exchange(exchangeFrom([root.token], overrides)))).toMatchObject({
          code: "E_TOKEN_POLICY",
          reason: "wildcard"
        })
      }
      expect(
        yield* failure(tokens.exchange(exchangeFrom([root.token], { requestedScopes: [] })))
      ).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "scope_empty"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-03 depth beyond maxDepth and a cycle back to an earlier agent are refused", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { chain } = yield* threeHop
      const deep = yield* failure(tokens.exchange(exchangeFrom(chain, { toAgent: "auditor", maxDepth: 2 })))
      expect(deep).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "depth" })
      const cycle = yield* failure(tokens.exchange(exchangeFrom(chain, { toAgent: "orchestrator" })))
      expect(cycle).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "cycle" })
      const self = yield* failure(tokens.exchange(exchangeFrom(chain, { toAgent: "writer" })))
      expect(self).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "cycle" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("IP-05 the intent cannot change down the chain", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest())
      expect(
        yield* failure(tokens.exchange(exchangeFrom([root.token], { intent: "send_email" })))
      ).toMatchObject({
        code: "E_TOKEN_POLICY",
        reason: "intent"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("OR-02 an exchange from a chain with a revoked ancestor is refused", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { chain, root } = yield* threeHop
      yield* (yield* RevocationList).revoke([root.claims.jti], "task_complete")
      expect(yield* failure(tokens.exchange(exchangeFrom(chain, { toAgent: "auditor" })))).toMatchObject({
        code: "E_TOKEN_REVOKED",
        reason: "ancestor_revoked"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("RP-02 an exchange from an expired parent is refused", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 30 }))
      yield* TestClock.adjust("40 seconds")
      expect(yield* failure(tokens.exchange(exchangeFrom([root.token])))).toMatchObject({
        code: "E_TOKEN_EXPIRED"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-05 a chain from another tenant is refused when the caller's tenant is known", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      yield* tokens.jwks(A)
      const rootB = yield* tokens.mintRoot(rootRequest({ tenant: B }))
      const err = yield* failure(tokens.exchange(exchangeFrom([rootB.token], { tenant: A })))
      expect(err).toMatchObject({ code: "E_TENANT_MISMATCH", reason: "tnt" })
      // A forged parent claiming tenant A but signed with B's key still fails on A's keys.
      const forged = `${rootB.token.split(".")[0]}.${Buffer.from(
        JSON.stringify({ ...rootB.claims, tnt: A })
      ).toString("base64url")}.${rootB.token.split(".")[2]}`
      expect(yield* failure(tokens.exchange(exchangeFrom([forged], { tenant: A })))).toMatchObject({
        code: "E_TOKEN_INVALID",
        reason: "kid"
      })
      const child = yield* tokens.exchange(exchangeFrom([rootB.token]))
      expect(child.claims.tnt).toBe(B)
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("an exchange for an unknown tenant creates no key and fails with kid", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const keys = yield* KeyRing
      const rootC = yield* TokenService.pipe(
        Effect.flatMap((t) => t.mintRoot(rootRequest({ tenant: "tenant-c" }))),
        Effect.provide(TestLayer.pipe(Layer.fresh))
      )
      expect(yield* failure(tokens.exchange(exchangeFrom([rootC.token])))).toMatchObject({
        code: "E_TOKEN_INVALID",
        reason: "kid"
      })
      expect((yield* keys.jwks("tenant-c")).keys).toEqual([])
    }).pipe(Effect.provide(TestLayer))
  )
})
