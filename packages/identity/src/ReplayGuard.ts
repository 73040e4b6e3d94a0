/**
 * Single-use enforcement for tokens (or any key, e.g. a `jti` or a request hash) of side-effecting
 * actions. jose does not track `jti`; this guard remembers each claimed key until its expiry plus
 * the clock tolerance, so a captured token replayed within its lifetime is refused (threat RP-01).
 *
 * Memory is bounded: expired keys are swept out at most once a second (their deadline must have
 * passed on both the wall and the monotonic clock, so a clock jump never forgets a key early —
 * CS-03), and when `maxEntries` keys are held a new claim is refused rather than an unexpired key
 * forgotten.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect"
import { IdentityConfigError } from "./IdentityConfigError.js"
import { currentInstant, type Deadline, deadlineAt, hasPassed, type Instant } from "./internal/deadline.js"
import { TokenReplay } from "./TokenError.js"
import { validateClockTolerance } from "./Verifier.js"

/** Options of a replay guard. */
export interface ReplayGuardOptions {
  /** Clock tolerance added to each key's expiry, seconds, 0–30; default 5. */
  readonly toleranceSec?: number
  /** Most keys held at once; default 100,000. */
  readonly maxEntries?: number
}

/** The replay-guard service. */
export interface ReplayGuardService {
  /**
   * Claims `key` until `expSec + tolerance` (`expSec` in epoch seconds, normally the token's
   * `exp`). The first claim succeeds; another claim of the same key before that deadline fails
   * with `TokenReplay(seen)` (`E_TOKEN_REPLAY`); a claim while the guard is full of unexpired keys
   * fails with `TokenReplay(capacity)`. A key that is not a non-empty string of at most 512
   * characters, or a non-finite `expSec`, is a defect.
   */
  readonly claim: (key: string, expSec: number) => Effect.Effect<void, TokenReplay>
  /** Number of keys held (expired ones included until the next purge). */
  readonly size: () => number
  /** Drops keys whose deadline has passed on both clocks; returns how many were dropped. */
  readonly purge: Effect.Effect<number>
}

const MAX_KEY_LENGTH = 512
/** Expired keys are swept at most this often (wall clock), or by `purge`. */
const SWEEP_INTERVAL_MS = 1000

/** Builds an empty replay guard; fails with `IdentityConfigError` on bad options. */
export const make = (
  options: ReplayGuardOptions = {}
): Effect.Effect<ReplayGuardService, IdentityConfigError> =>
  Effect.gen(function* () {
    const tolerance = yield* validateClockTolerance(options.toleranceSec)
    const maxEntries = options.maxEntries ?? 100_000
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      return yield* Effect.fail(new IdentityConfigError({ reason: "bound" }))
    }
    const seen = new Map<string, Deadline>()
    let nextSweepMs = Number.NEGATIVE_INFINITY

    const sweep = (now: Instant): number => {
      let dropped = 0
      for (const [key, until] of seen) {
        if (hasPassed(until, now)) {
          seen.delete(key)
          dropped++
        }
      }
      nextSweepMs = now.wallMs + SWEEP_INTERVAL_MS
      return dropped
    }

    const claim = (key: string, expSec: number): Effect.Effect<void, TokenReplay> =>
      typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || !Number.isFinite(expSec)
        ? Effect.dieMessage("ReplayGuard.claim: invalid key or expiry")
        : Effect.flatMap(currentInstant, (now) => {
            const existing = seen.get(key)
            if (existing !== undefined && !hasPassed(existing, now)) {
              return Effect.fail(new TokenReplay({ reason: "seen" }))
            }
            if (now.wallMs >= nextSweepMs || now.wallMs < nextSweepMs - SWEEP_INTERVAL_MS) sweep(now)
            if (seen.size >= maxEntries) return Effect.fail(new TokenReplay({ reason: "capacity" }))
            seen.set(key, deadlineAt(now, (expSec + tolerance) * 1000))
            return Effect.void
          })

    return ReplayGuard.of({ claim, size: () => seen.size, purge: Effect.map(currentInstant, sweep) })
  })

/** Context tag of the replay guard. */
export class ReplayGuard extends Context.Tag("@cordon/identity/ReplayGuard")<
  ReplayGuard,
  ReplayGuardService
>() {
  /** In-memory replay guard with default options. */
  static readonly layer: Layer.Layer<ReplayGuard> = Layer.effect(ReplayGuard, Effect.orDie(make()))
  /** In-memory replay guard with options; fails with `IdentityConfigError` (`E_CONFIG`). */
  static readonly layerWith = (options: ReplayGuardOptions): Layer.Layer<ReplayGuard, IdentityConfigError> =>
    Layer.effect(ReplayGuard, make(options))
}
