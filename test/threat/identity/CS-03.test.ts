/**
 * CS-03 — a clock jump breaks revocation TTLs. Revocation entries (and replay-guard keys) are
 * purged only at exp + tolerance + margin on both the wall clock and the monotonic clock, so a
 * wall clock stepped back or forward never makes a revoked token valid again before its `exp`.
 */
import { ReplayGuard, RevocationList, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Clock as EffectClock, Effect, TestClock } from "effect"
import { atNow, expectRefusal, Identity, NOW_MS, threeHop, verifyOptions } from "./support.js"

/** A clock whose wall time can be stepped (NTP) while its monotonic time keeps counting. */
const steppedClock = (startMs: number) => {
  let wall = startMs
  let mono = BigInt(startMs) * 1_000_000n
  const clock: EffectClock.Clock = {
    [EffectClock.ClockTypeId]: EffectClock.ClockTypeId,
    unsafeCurrentTimeMillis: () => wall,
    currentTimeMillis: Effect.sync(() => wall),
    unsafeCurrentTimeNanos: () => mono,
    currentTimeNanos: Effect.sync(() => mono),
    sleep: () => Effect.void
  }
  return {
    clock,
    step: (ms: number) => {
      wall += ms
    },
    elapse: (ms: number) => {
      wall += ms
      mono += BigInt(ms) * 1_000_000n
    }
  }
}

describe("CS-03 clock jumps and revocation", () => {
  it.effect(
    "CS-03 a revoked jti stays rejected until its original exp when the clock jumps back and forth",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const revocations = yield* RevocationList
        const { chain, hop2 } = yield* threeHop
        const exp = hop2.claims.exp
        yield* revocations.revoke([hop2.claims.jti], "task_complete", exp)
        yield* TestClock.setTime(NOW_MS - 3_600_000)
        expect(yield* revocations.purge).toBe(0)
        yield* TestClock.setTime(exp * 1000)
        expect(yield* revocations.purge).toBe(0)
        expectRefusal(
          yield* Effect.flip(verifyChain(chain, yield* verifyOptions({ now: new Date((exp - 1) * 1000) }))),
          "E_TOKEN_REVOKED",
          "task_complete"
        )
        // Purged only at exp + tolerance (5 s) + margin (60 s), when the token no longer verifies anyway.
        yield* TestClock.setTime((exp + 65) * 1000)
        expect(yield* revocations.purge).toBe(0)
        yield* TestClock.adjust("1 second")
        expect(yield* revocations.purge).toBe(1)
        expectRefusal(
          yield* Effect.flip(verifyChain(chain, yield* verifyOptions({ now: new Date((exp + 66) * 1000) }))),
          "E_TOKEN_EXPIRED",
          "exp"
        )
      }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "CS-03 a wall clock stepped forward by an hour purges nothing early; real elapsed time does",
    () =>
      Effect.gen(function* () {
        const revocations = yield* RevocationList
        const time = steppedClock(NOW_MS)
        const exp = NOW_MS / 1000 + 60
        const onClock = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.withClock(self, time.clock)
        yield* onClock(revocations.revoke(["j1"], "task_complete", exp))
        time.step(3_600_000)
        expect(yield* onClock(revocations.purge)).toBe(0)
        expect(revocations.isRevoked("j1")).toBe(true)
        time.step(-3_600_000)
        time.elapse(60_000 + 5_000 + 60_000)
        expect(yield* onClock(revocations.purge)).toBe(0)
        time.elapse(1_000)
        expect(yield* onClock(revocations.purge)).toBe(1)
      }).pipe(Effect.provide(RevocationList.layer))
  )

  it.effect("CS-03 a replay-guard key survives wall-clock jumps in both directions", () =>
    Effect.gen(function* () {
      const guard = yield* ReplayGuard
      const time = steppedClock(NOW_MS)
      const claim = Effect.withClock(guard.claim("jti-9", NOW_MS / 1000 + 60), time.clock)
      yield* claim
      time.step(7_200_000)
      expectRefusal(yield* Effect.flip(claim), "E_TOKEN_REPLAY", "seen")
      time.step(-14_400_000)
      expectRefusal(yield* Effect.flip(claim), "E_TOKEN_REPLAY", "seen")
    }).pipe(Effect.provide(ReplayGuard.layer))
  )
})
