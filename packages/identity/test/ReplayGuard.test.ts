import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"
import { ReplayGuard } from "../src/index.js"
import { NOW, NOW_MS, skewClock } from "./support.js"

describe("ReplayGuard", () => {
  it.effect("RP-01 the first claim succeeds, a second before exp + tolerance fails with E_TOKEN_REPLAY", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW_MS)
      const guard = yield* ReplayGuard
      yield* guard.claim("jti-1", NOW + 60)
      yield* guard.claim("jti-2", NOW + 60)
      const err = yield* Effect.flip(guard.claim("jti-1", NOW + 60))
      expect(err).toMatchObject({ _tag: "TokenReplay", code: "E_TOKEN_REPLAY", reason: "seen" })
      expect(err.message).not.toContain("jti-1")
      yield* TestClock.setTime((NOW + 65) * 1000)
      expect((yield* Effect.flip(guard.claim("jti-1", NOW + 60))).reason).toBe("seen")
      yield* TestClock.adjust("1 second")
      yield* guard.claim("jti-1", NOW + 60)
    }).pipe(Effect.provide(ReplayGuard.layer))
  )

  it.effect("memory is bounded: expired keys are purged, a full guard refuses instead of forgetting", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW_MS)
      const guard = yield* ReplayGuard
      yield* guard.claim("a", NOW + 10)
      yield* guard.claim("b", NOW + 100)
      expect(yield* Effect.flip(guard.claim("c", NOW + 100))).toMatchObject({ reason: "capacity" })
      expect(yield* Effect.flip(guard.claim("a", NOW + 10))).toMatchObject({ reason: "seen" })
      yield* TestClock.setTime((NOW + 16) * 1000)
      yield* guard.claim("c", NOW + 100)
      expect(guard.size()).toBe(2)
      expect(yield* Effect.flip(guard.claim("b", NOW + 100))).toMatchObject({ reason: "seen" })
    }).pipe(Effect.provide(ReplayGuard.layerWith({ maxEntries: 2 })))
  )

  it.effect("CS-03 a clock stepped back or forward never forgets a claimed key early", () =>
    Effect.gen(function* () {
      const guard = yield* ReplayGuard
      const time = skewClock(NOW_MS)
      const claim = (key: string) => Effect.withClock(guard.claim(key, NOW + 60), time.clock)
      yield* claim("k")
      time.stepWall(3_600_000)
      yield* guard.purge.pipe(Effect.withClock(time.clock))
      expect(yield* Effect.flip(claim("k"))).toMatchObject({ code: "E_TOKEN_REPLAY" })
      time.stepWall(-7_200_000)
      yield* guard.purge.pipe(Effect.withClock(time.clock))
      expect(yield* Effect.flip(claim("k"))).toMatchObject({ code: "E_TOKEN_REPLAY" })
    }).pipe(Effect.provide(ReplayGuard.layer))
  )

  it.effect("invalid options fail with E_CONFIG; an empty key is a defect", () =>
    Effect.gen(function* () {
      for (const options of [{ maxEntries: 0 }, { toleranceSec: 31 }]) {
        const exit = yield* Effect.exit(Layer.build(ReplayGuard.layerWith(options)).pipe(Effect.scoped))
        expect(exit).toEqual(Exit.fail(expect.objectContaining({ code: "E_CONFIG" })))
      }
      const guard = yield* ReplayGuard.pipe(Effect.provide(ReplayGuard.layer))
      const exit = yield* Effect.exit(guard.claim("", NOW))
      expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
    })
  )
})
