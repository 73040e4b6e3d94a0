/**
 * RP-01 — a valid, unexpired token is replayed. Tokens of side-effecting intents are single-use:
 * their `jti` is claimed in a replay guard until `exp` + tolerance (jose does not track `jti`).
 */
import { ReplayGuard, TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { atNow, expectRefusal, Identity, NOW_MS, rootRequest, verifyOptions } from "./support.js"

describe("RP-01 replay of a valid token", () => {
  it.effect("RP-01 a resent single-use token fails with TokenReplay and the side effect runs once", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const guard = yield* ReplayGuard
      const minted = yield* tokens.mintRoot(rootRequest({ intent: "send_email" }))
      let sent = 0
      // What a side-effecting tool gate does: verify the chain, claim the leaf's jti, then act.
      const sendEmail = (chain: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          const verified = yield* verifyChain(chain, yield* verifyOptions())
          yield* guard.claim(verified.leaf.jti, verified.leaf.exp)
          sent++
        })
      yield* sendEmail([minted.token])
      const err = yield* Effect.flip(sendEmail([minted.token]))
      expectRefusal(err, "E_TOKEN_REPLAY", "seen")
      expect(err.message).not.toContain(minted.claims.jti)
      expect(sent).toBe(1)
    }).pipe(Effect.provide(Layer.merge(Identity, ReplayGuard.layer)))
  )

  it.effect("RP-01 a claimed jti stays claimed until exp + tolerance, then memory is released", () =>
    Effect.gen(function* () {
      yield* atNow
      const guard = yield* ReplayGuard
      const exp = NOW_MS / 1000 + 60
      yield* guard.claim("jti-1", exp)
      yield* TestClock.adjust("65 seconds")
      expectRefusal(yield* Effect.flip(guard.claim("jti-1", exp)), "E_TOKEN_REPLAY", "seen")
      yield* TestClock.adjust("1 second")
      expect(yield* guard.purge).toBe(1)
      expect(guard.size()).toBe(0)
    }).pipe(Effect.provide(ReplayGuard.layer))
  )
})
