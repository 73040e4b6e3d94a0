/**
 * RP-02 — an expired token is replayed. Verification uses a small clock tolerance (5 s by
 * default) and maps an expired link to TokenExpired(exp); an expired parent cannot be exchanged.
 */
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import {
  atNow,
  exchangeRequest,
  expectRefusal,
  Identity,
  rootRequest,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

describe("RP-02 replay of an expired token", () => {
  it.effect("RP-02 a token that expired 60 s ago fails with TokenExpired(exp)", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain, root, hop2 } = yield* threeHop
      const at = new Date((hop2.claims.exp + 60) * 1000)
      expectRefusal(
        yield* Effect.flip(verifyChain(chain, yield* verifyOptions({ now: at }))),
        "E_TOKEN_EXPIRED",
        "exp"
      )
      const rootExpired = new Date((root.claims.exp + 60) * 1000)
      expectRefusal(
        yield* Effect.flip(verifyChain([chain[0]!], yield* verifyOptions({ now: rootExpired }))),
        "E_TOKEN_EXPIRED",
        "exp"
      )
    }).pipe(Effect.provide(Identity))
  )

  it.effect("RP-02 an exchange from a parent that expired 60 s ago mints nothing", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 30 }))
      yield* TestClock.adjust("90 seconds")
      const before = yield* signatures
      expectRefusal(
        yield* Effect.flip(tokens.exchange(exchangeRequest([root.token]))),
        "E_TOKEN_EXPIRED",
        "exp"
      )
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )
})
