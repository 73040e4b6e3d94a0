/**
 * CS-01 — a generous skew allowance lengthens every token's life. The clock tolerance is at most
 * 30 s and is checked when the layers are built (boot), not at request time.
 */
import {
  KeyRing,
  ReplayGuard,
  RevocationList,
  TokenService,
  validateClockTolerance,
  verifyChain
} from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Layer } from "effect"
import { atNow, expectRefusal, Identity, rootRequest, verifyOptions } from "./support.js"

const build = <A, E>(layer: Layer.Layer<A, E>) => Effect.exit(Effect.scoped(Layer.build(layer)))

describe("CS-01 clock tolerance", () => {
  it.effect("CS-01 booting with a 600 s tolerance fails with a config error (E_CONFIG)", () =>
    Effect.gen(function* () {
      const bad = validateClockTolerance(600)
      expect(Either.isLeft(bad) && bad.left).toMatchObject({ code: "E_CONFIG", reason: "clock_tolerance" })
      const layers = [
        TokenService.layerWith({ clockToleranceSec: 600 }).pipe(
          Layer.provide(Layer.merge(KeyRing.layer, RevocationList.layer))
        ),
        RevocationList.layerWith({ toleranceSec: 600 }),
        ReplayGuard.layerWith({ toleranceSec: 600 })
      ]
      for (const layer of layers) {
        const exit = yield* build(layer as Layer.Layer<unknown, unknown>)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit))
          expect(exit.cause).toMatchObject({ _tag: "Fail", error: { code: "E_CONFIG" } })
      }
      expect(Exit.isSuccess(yield* build(RevocationList.layerWith({ toleranceSec: 30 })))).toBe(true)
    })
  )

  it.effect("CS-01 with a 30 s tolerance, exp = now − 31 s is expired and exp = now − 29 s is accepted", () =>
    Effect.gen(function* () {
      yield* atNow
      const minted = yield* (yield* TokenService).mintRoot(rootRequest())
      const at = (sec: number) => new Date(sec * 1000)
      const exp = minted.claims.exp
      const late = yield* verifyOptions({ clockToleranceSec: 30, now: at(exp + 31) })
      expectRefusal(yield* Effect.flip(verifyChain([minted.token], late)), "E_TOKEN_EXPIRED", "exp")
      const lenient = yield* verifyOptions({ clockToleranceSec: 30, now: at(exp + 29) })
      expect((yield* verifyChain([minted.token], lenient)).leaf.jti).toBe(minted.claims.jti)
    }).pipe(Effect.provide(Identity))
  )
})
