/**
 * LS-03 — one static secret signs everything, in every environment. Keys are asymmetric, per
 * tenant and per deployment, each with a `kid`; rotation keeps the old key published only for the
 * overlap window (≥ the maximum TTL), and a retired key's tokens stop verifying.
 */
import { KeyRing, TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { A, atNow, expectRefusal, Identity, rootRequest, verifyOptions } from "./support.js"

describe("LS-03 per-environment keys, rotation and retirement", () => {
  it.effect("LS-03 a staging token presented in prod fails with TokenInvalid(kid)", () =>
    Effect.gen(function* () {
      yield* atNow
      const staging = yield* Effect.flatMap(TokenService, (t) => t.mintRoot(rootRequest())).pipe(
        Effect.provide(Layer.fresh(Identity))
      )
      const prod = yield* TokenService
      yield* prod.mintRoot(rootRequest())
      const err = yield* Effect.flip(verifyChain([staging.token], yield* verifyOptions()))
      expectRefusal(err, "E_TOKEN_INVALID", "kid")
    }).pipe(Effect.provide(Identity))
  )

  it.effect("LS-03 after rotation the old kid verifies during the overlap, then fails with kid", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const ring = yield* KeyRing
      const old = yield* tokens.mintRoot(rootRequest())
      yield* ring.rotate(A)
      const fresh = yield* tokens.mintRoot(rootRequest())
      expect(fresh.token.split(".")[0]).not.toBe(old.token.split(".")[0])
      expect((yield* verifyChain([old.token], yield* verifyOptions())).leaf.jti).toBe(old.claims.jti)
      yield* TestClock.adjust("301 seconds")
      const jwks = yield* ring.jwks(A)
      expect(jwks.keys).toHaveLength(1)
      expectRefusal(
        yield* Effect.flip(verifyChain([old.token], yield* verifyOptions({ jwks }))),
        "E_TOKEN_INVALID",
        "kid"
      )
      expect((yield* verifyChain([fresh.token], yield* verifyOptions({ jwks }))).leaf.jti).toBe(
        fresh.claims.jti
      )
    }).pipe(Effect.provide(Identity))
  )

  it.effect("LS-03 a key retired as compromised leaves the JWKS at once: its tokens fail with kid", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const ring = yield* KeyRing
      const minted = yield* tokens.mintRoot(rootRequest())
      yield* ring.retire(A, (yield* ring.signingKey(A)).kid, { compromised: true })
      expectRefusal(
        yield* Effect.flip(verifyChain([minted.token], yield* verifyOptions())),
        "E_TOKEN_INVALID",
        "kid"
      )
      const next = yield* tokens.mintRoot(rootRequest())
      expect((yield* verifyChain([next.token], yield* verifyOptions())).leaf.jti).toBe(next.claims.jti)
    }).pipe(Effect.provide(Identity))
  )
})
