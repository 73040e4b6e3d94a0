import { describe, expect, it } from "@effect/vitest"
import { decodeJwt } from "jose"
import { Effect } from "effect"
import { KeyRing, RevocationList, TokenService, tokenHash, verifyChain } from "../src/index.js"
import {
  A,
  agentUri,
  atNow,
  B,
  childClaims,
  NOW,
  rootRequest,
  sign,
  TestLayer,
  threeHop,
  verifyOptions
} from "./support.js"

/** Runs `verifyChain` with tenant A's JWKS and returns the failure (or the success). */
const verifyA = (chain: ReadonlyArray<string>, overrides: Parameters<typeof verifyOptions>[1] = {}) =>
  Effect.gen(function* () {
    const jwks = yield* (yield* TokenService).jwks(A)
    return yield* verifyChain(chain, verifyOptions(jwks, overrides))
  })

const failure = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.flip(self)

describe("verifyChain: lineage, tenant, revocation, time", () => {
  it.effect("a root token round-trips: claims decoded, leaf hash is the token hash", () =>
    Effect.gen(function* () {
      yield* atNow
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      const verified = yield* verifyA([root.token], { audience: agentUri(A, "orchestrator") })
      expect(verified.leaf).toEqual(root.claims)
      expect(verified.claims).toHaveLength(1)
      expect(verified.leafHash).toBe(tokenHash(root.token))
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("a 3-hop chain verifies with nested act, narrowing scopes and depth 2", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain, hop2 } = yield* threeHop
      const verified = yield* verifyA(chain, { audience: agentUri(A, "writer") })
      expect(verified.claims.map((c) => c.dep)).toEqual([0, 1, 2])
      expect(verified.leaf).toEqual(hop2.claims)
      expect(verified.leaf.act).toEqual({
        sub: agentUri(A, "researcher"),
        act: { sub: agentUri(A, "orchestrator") }
      })
      expect(verified.claims.map((c) => c.scp)).toEqual([
        ["crm:read", "crm:write", "mail:read"],
        ["crm:read", "mail:read"],
        ["crm:read"]
      ])
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-02 swapped links fail with broken_link", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const err = yield* failure(verifyA([chain[0]!, chain[2]!, chain[1]!]))
      expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "broken_link" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-02 a dropped middle link or a dropped root fails with broken_link", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const middle = yield* failure(verifyA([chain[0]!, chain[2]!]))
      expect(middle).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "broken_link" })
      const root = yield* failure(verifyA([chain[1]!, chain[2]!]))
      expect(root).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "broken_link" })
      const alone = yield* failure(verifyA([chain[2]!]))
      expect(alone).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "broken_link" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-02 an edited hop (payload changed, signature kept) fails with bad_signature", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const [h, , s] = chain[1]!.split(".")
      const claims = decodeJwt(chain[1]!)
      const edited = Buffer.from(JSON.stringify({ ...claims, scp: ["crm:read", "crm:write", "mail:read"] }))
      const forged = `${h}.${edited.toString("base64url")}.${s}`
      const err = yield* failure(verifyA([chain[0]!, forged]))
      expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "bad_signature" })
      const single = yield* failure(verifyA([forged]))
      expect(single).toMatchObject({ code: "E_TOKEN_INVALID", reason: "signature" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("LS-03 a link re-signed with another tenant's key fails (kid unknown, or bad signature)", () =>
    Effect.gen(function* () {
      yield* atNow
      const keys = yield* KeyRing
      const { chain } = yield* threeHop
      const keyA = yield* keys.signingKey(A)
      const keyB = yield* keys.signingKey(B)
      const payload = decodeJwt(chain[1]!)
      const withBKid = yield* sign(payload, keyB)
      expect(yield* failure(verifyA([chain[0]!, withBKid]))).toMatchObject({
        code: "E_TOKEN_INVALID",
        reason: "kid"
      })
      const withAKid = yield* sign(payload, { kid: keyA.kid, key: keyB.key })
      expect(yield* failure(verifyA([chain[0]!, withAKid]))).toMatchObject({
        code: "E_DELEGATION_CHAIN",
        reason: "bad_signature"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-01 a forged child with widened scope fails with scope_widened", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const { chain } = yield* threeHop
      const forged = yield* sign(childClaims(chain[1]!, "writer", { scp: ["crm:read", "crm:write"] }), key)
      const err = yield* failure(verifyA([chain[0]!, chain[1]!, forged]))
      expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "scope_widened" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-03 a forged child with later exp or earlier nbf fails with expiry_extended", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const { chain, hop1 } = yield* threeHop
      for (const overrides of [{ exp: hop1.claims.exp + 60 }, { nbf: hop1.claims.nbf - 1 }]) {
        const forged = yield* sign(childClaims(chain[1]!, "writer", overrides), key)
        const err = yield* failure(verifyA([chain[0]!, chain[1]!, forged]))
        expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "expiry_extended" })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-03 a chain longer than maxDepth + 1 fails with depth", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const err = yield* failure(verifyA(chain, { maxDepth: 1 }))
      expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "depth" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-03 a cycle A → B → A fails with cycle", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const { chain } = yield* threeHop
      const back = yield* sign(childClaims(chain[1]!, "orchestrator"), key)
      const err = yield* failure(verifyA([chain[0]!, chain[1]!, back]))
      expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "cycle" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-02 prev, dep or act that do not continue the parent fail with broken_link", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const { chain } = yield* threeHop
      const variants = [
        { prev: tokenHash(chain[0]!) },
        { dep: 3 },
        { act: { sub: agentUri(A, "researcher") } },
        { act: { sub: agentUri(A, "researcher"), act: { sub: agentUri(A, "auditor") } } }
      ]
      for (const overrides of variants) {
        const forged = yield* sign(childClaims(chain[1]!, "writer", overrides), key)
        const err = yield* failure(verifyA([chain[0]!, chain[1]!, forged]))
        expect(err).toMatchObject({ code: "E_DELEGATION_CHAIN", reason: "broken_link" })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect(
    "DS-05 a link switching tenant fails with E_TENANT_MISMATCH; session/user/txn switch with binding",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const key = yield* (yield* KeyRing).signingKey(A)
        const { chain } = yield* threeHop
        const sub = agentUri(B, "writer")
        const tenantSwitch = yield* sign(childClaims(chain[1]!, "writer", { tnt: B, sub, aud: sub }), key)
        expect(yield* failure(verifyA([chain[0]!, chain[1]!, tenantSwitch]))).toMatchObject({
          code: "E_TENANT_MISMATCH"
        })
        const subSwitch = yield* sign(childClaims(chain[1]!, "writer", { sub, aud: sub }), key)
        expect(yield* failure(verifyA([chain[0]!, chain[1]!, subSwitch]))).toMatchObject({
          code: "E_TENANT_MISMATCH",
          reason: "sub"
        })
        for (const overrides of [{ sid: "sess-2" }, { usr: "mallory" }, { txn: "task-2" }]) {
          const forged = yield* sign(childClaims(chain[1]!, "writer", overrides), key)
          expect(yield* failure(verifyA([chain[0]!, chain[1]!, forged]))).toMatchObject({
            code: "E_DELEGATION_CHAIN",
            reason: "binding"
          })
        }
      }).pipe(Effect.provide(TestLayer))
  )

  it.effect("LS-03 DS-05 a worker holding only tenant A's JWKS rejects a valid tenant B token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const jwksA = yield* tokens.jwks(A)
      const jwksB = yield* tokens.jwks(B)
      const tokenB = yield* tokens.mintRoot(rootRequest({ tenant: B }))
      const inWorker = yield* failure(verifyChain([tokenB.token], verifyOptions(jwksA)))
      expect(inWorker).toMatchObject({ code: "E_TOKEN_INVALID", reason: "kid" })
      const both = { keys: [...jwksA.keys, ...jwksB.keys] }
      const inBroker = yield* failure(verifyChain([tokenB.token], verifyOptions(both)))
      expect(inBroker).toMatchObject({ code: "E_TENANT_MISMATCH", reason: "tnt" })
      const ok = yield* verifyChain(
        [tokenB.token],
        verifyOptions(jwksB, { tenant: B, issuer: tokenB.claims.iss })
      )
      expect(ok.leaf.tnt).toBe(B)
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect(
    "OR-01 OR-02 a revoked leaf fails with task_complete, a revoked ancestor with ancestor_revoked",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const revocations = yield* RevocationList
        const { chain, root, hop2 } = yield* threeHop
        const isRevoked = revocations.isRevoked
        yield* revocations.revoke([root.claims.jti], "manual")
        expect(yield* failure(verifyA(chain, { isRevoked }))).toMatchObject({
          code: "E_TOKEN_REVOKED",
          reason: "ancestor_revoked"
        })
        yield* revocations.revoke([hop2.claims.jti], "task_complete")
        expect(yield* failure(verifyA(chain, { isRevoked }))).toMatchObject({
          code: "E_TOKEN_REVOKED",
          reason: "task_complete"
        })
      }).pipe(Effect.provide(TestLayer))
  )

  it.effect("RP-02 CS-01 expiry and not-before are checked against now with the clock tolerance", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain, hop2 } = yield* threeHop
      const at = (sec: number) => new Date(sec * 1000)
      const exp = hop2.claims.exp
      expect((yield* verifyA(chain, { now: at(exp + 4) })).leaf.exp).toBe(exp)
      expect(yield* failure(verifyA(chain, { now: at(exp + 5) }))).toMatchObject({ code: "E_TOKEN_EXPIRED" })
      expect(yield* failure(verifyA(chain, { now: at(exp + 31), clockToleranceSec: 30 }))).toMatchObject({
        code: "E_TOKEN_EXPIRED"
      })
      expect(yield* failure(verifyA(chain, { now: at(NOW - 60) }))).toMatchObject({
        code: "E_TOKEN_NOT_YET_VALID",
        reason: "nbf"
      })
      expect(yield* failure(verifyA(chain, { now: at(NOW + 30), maxTokenAgeSec: 20 }))).toMatchObject({
        code: "E_TOKEN_EXPIRED",
        reason: "max_age"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("CS-01 a clock tolerance above 30 s is refused (the verification dies, never succeeds)", () =>
    Effect.gen(function* () {
      yield* atNow
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      const exit = yield* Effect.exit(verifyA([root.token], { clockToleranceSec: 600 }))
      expect(exit._tag).toBe("Failure")
      expect(exit._tag === "Failure" && exit.cause._tag).toBe("Die")
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("RP-03 a leaf presented to another audience fails; a link with aud ≠ sub fails", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const { chain } = yield* threeHop
      expect(yield* failure(verifyA(chain, { audience: agentUri(A, "researcher") }))).toMatchObject({
        code: "E_AUDIENCE_MISMATCH",
        reason: "expected"
      })
      const forged = yield* sign(childClaims(chain[1]!, "writer", { aud: agentUri(A, "payments") }), key)
      expect(yield* failure(verifyA([chain[0]!, chain[1]!, forged]))).toMatchObject({
        code: "E_AUDIENCE_MISMATCH",
        reason: "holder"
      })
    }).pipe(Effect.provide(TestLayer))
  )
})
