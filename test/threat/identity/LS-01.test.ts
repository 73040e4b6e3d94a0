/**
 * LS-01 — minted credentials live too long. The mint caps the TTL (≤ 5 min, ≤ the session end) and
 * verifiers apply a maximum token age, so a long `exp` alone does not help.
 */
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  A,
  atNow,
  claimsOf,
  expectRefusal,
  forge,
  Identity,
  NOW,
  rootRequest,
  signatures,
  verifyOptions
} from "./support.js"

describe("LS-01 credential lifetime", () => {
  it.effect("LS-01 a 24 h TTL request is refused with TokenPolicyError(ttl) and mints nothing", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      yield* tokens.jwks(A)
      const before = yield* signatures
      expectRefusal(
        yield* Effect.flip(tokens.mintRoot(rootRequest({ ttlSeconds: 86_400 }))),
        "E_TOKEN_POLICY",
        "ttl"
      )
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )

  it.effect("LS-01 exp never passes the session end", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const minted = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 300, notAfter: NOW + 40 }))
      expect(minted.claims.exp).toBe(NOW + 40)
    }).pipe(Effect.provide(Identity))
  )

  it.effect("LS-01 a token with an old iat and a far exp fails with TokenExpired(max_age)", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const real = yield* tokens.mintRoot(rootRequest())
      const old = yield* forge(A, {
        ...claimsOf(real.token),
        iat: NOW - 3600,
        nbf: NOW - 3600,
        exp: NOW + 86_400
      })
      const err = yield* Effect.flip(verifyChain([old], yield* verifyOptions({ maxTokenAgeSec: 300 })))
      expectRefusal(err, "E_TOKEN_EXPIRED", "max_age")
    }).pipe(Effect.provide(Identity))
  )
})
