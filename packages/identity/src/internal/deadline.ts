/**
 * Deadlines that a clock jump cannot bring forward (threat CS-03). A deadline holds a wall-clock
 * instant and the equivalent monotonic instant computed when it was set; it has passed only when
 * BOTH clocks are past it. A wall clock stepped back keeps the wall condition false; a wall clock
 * stepped forward leaves the monotonic condition false. Both readings come from Effect's `Clock`
 * (`currentTimeMillis` is wall time; `currentTimeNanos` is `process.hrtime`-based and monotonic in
 * the default clock; `TestClock` drives both).
 *
 * @internal
 */
import { Clock, Effect } from "effect"

/** A reading of both clocks. */
export interface Instant {
  readonly wallMs: number
  readonly monoNs: bigint
}

/** A deadline on both clocks. */
export interface Deadline {
  readonly wallMs: number
  readonly monoNs: bigint
}

export const currentInstant: Effect.Effect<Instant> = Effect.map(
  Effect.all([Clock.currentTimeMillis, Clock.currentTimeNanos]),
  ([wallMs, monoNs]) => ({ wallMs, monoNs })
)

/** The deadline at wall time `wallMs`, as seen from `now`. */
export const deadlineAt = (now: Instant, wallMs: number): Deadline => ({
  wallMs,
  monoNs: now.monoNs + BigInt(Math.max(0, Math.ceil(wallMs - now.wallMs))) * 1_000_000n
})

/** The later of two deadlines, on each clock. */
export const later = (a: Deadline, b: Deadline): Deadline => ({
  wallMs: Math.max(a.wallMs, b.wallMs),
  monoNs: a.monoNs > b.monoNs ? a.monoNs : b.monoNs
})

/** Whether both clocks are strictly past `deadline`. */
export const hasPassed = (deadline: Deadline, now: Instant): boolean =>
  now.wallMs > deadline.wallMs && now.monoNs > deadline.monoNs
