import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"
import { RevocationList } from "../src/index.js"
import { NOW, NOW_MS, skewClock } from "./support.js"

const Default = RevocationList.layer

describe("RevocationList", () => {
  it.effect("OR-01 revoked jtis are reported synchronously; version bumps on every revoke", () =>
    Effect.gen(function* () {
      const list = yield* RevocationList
      expect(list.version()).toBe(0)
      expect(list.isRevoked("j1")).toBe(false)
      yield* list.revoke(["j1", "j2"], "task_complete")
      expect(list.version()).toBe(1)
      yield* list.revoke(["j1"], "manual")
      expect(list.version()).toBe(2)
      expect(list.isRevoked("j1")).toBe(true)
      expect(list.reasonOf("j1")).toBe("task_complete")
      const snap = list.snapshot()
      yield* list.revoke(["j3"], "session_closed")
      expect([...snap].sort()).toEqual(["j1", "j2"])
      expect(list.snapshot().has("j3")).toBe(true)
    }).pipe(Effect.provide(Default))
  )

  it.effect("an entry is kept until exp + tolerance + margin, then purged; entries without exp stay", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW_MS)
      const list = yield* RevocationList
      yield* list.revoke(["short"], "task_complete", NOW + 60)
      yield* list.revoke(["forever"], "manual")
      // default tolerance 5 s, margin 60 s: deadline NOW + 125 s
      yield* TestClock.setTime((NOW + 125) * 1000)
      expect(yield* list.purge).toBe(0)
      expect(list.isRevoked("short")).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(yield* list.purge).toBe(1)
      expect(list.isRevoked("short")).toBe(false)
      yield* TestClock.adjust("365 days")
      yield* list.purge
      expect(list.isRevoked("forever")).toBe(true)
    }).pipe(Effect.provide(Default))
  )

  it.effect(
    "revoking again keeps the later deadline, and a revoke without exp keeps the entry for good",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW_MS)
        const list = yield* RevocationList
        yield* list.revoke(["j"], "task_complete", NOW + 600)
        yield* list.revoke(["j"], "task_complete", NOW + 10)
        yield* TestClock.setTime((NOW + 600) * 1000)
        yield* list.purge
        expect(list.isRevoked("j")).toBe(true)
        yield* list.revoke(["j"], "manual")
        yield* TestClock.adjust("10 days")
        yield* list.purge
        expect(list.isRevoked("j")).toBe(true)
      }).pipe(Effect.provide(Default))
  )

  it.effect("CS-03 a wall clock stepped forward does not purge early (the monotonic deadline holds)", () =>
    Effect.gen(function* () {
      const list = yield* RevocationList
      const time = skewClock(NOW_MS)
      yield* list.revoke(["j"], "task_complete", NOW + 60).pipe(Effect.withClock(time.clock))
      time.stepWall(3_600_000)
      expect(yield* list.purge.pipe(Effect.withClock(time.clock))).toBe(0)
      expect(list.isRevoked("j")).toBe(true)
      time.stepWall(-3_600_000)
      time.elapse(200_000)
      expect(yield* list.purge.pipe(Effect.withClock(time.clock))).toBe(1)
    }).pipe(Effect.provide(Default))
  )

  it.effect("bad options fail the layer with E_CONFIG", () =>
    Effect.gen(function* () {
      for (const options of [{ toleranceSec: 600 }, { toleranceSec: -1 }, { marginSec: Number.NaN }]) {
        const exit = yield* Effect.exit(Layer.build(RevocationList.layerWith(options)).pipe(Effect.scoped))
        expect(exit).toEqual(Exit.fail(expect.objectContaining({ code: "E_CONFIG" })))
      }
    })
  )
})
