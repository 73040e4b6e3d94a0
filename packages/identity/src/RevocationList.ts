/**
 * The broker's revocation list of task-token `jti`s. jose does not track revocation; verifiers
 * consult {@link RevocationListService.isRevoked} for every link of a chain on every use. The broker
 * persists revocations in its store separately; this in-memory list is what verification reads.
 *
 * An entry revoked with the token's `exp` is kept until `exp + toleranceSec + marginSec` has passed
 * on both the wall clock and the monotonic clock, so a clock that jumps back (or forward) never
 * purges it early (threat CS-03); an entry without `exp` is kept for the list's lifetime.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect"
import { IdentityConfigError } from "./IdentityConfigError.js"
import {
  currentInstant,
  type Deadline,
  deadlineAt,
  hasPassed,
  type Instant,
  later
} from "./internal/deadline.js"
import { validateClockTolerance } from "./Verifier.js"

/** Why a set of `jti`s was revoked (recorded for audit; verification only needs membership). */
export type RevocationReason =
  | "task_complete"
  | "ancestor_revoked"
  | "tenant_offboarded"
  | "session_closed"
  | "manual"

/** Options of a revocation list. */
export interface RevocationListOptions {
  /** Verifiers' clock tolerance, seconds, 0–30; default 5. */
  readonly toleranceSec?: number
  /** Extra time an entry is kept past `exp + toleranceSec`, seconds, ≥ 0; default 60. */
  readonly marginSec?: number
}

/** The revocation-list service. */
export interface RevocationListService {
  /**
   * Adds `jtis` (idempotent; the first reason recorded for a `jti` is kept) and bumps
   * {@link version}. With `exp` (the tokens' expiry, epoch seconds) the entries are kept until
   * `exp + tolerance + margin` (the later deadline wins when a `jti` is revoked twice); without it
   * they are kept for good. Also sweeps out entries whose deadline has passed (at most once a
   * second, so bulk loading stays linear).
   */
  readonly revoke: (
    jtis: ReadonlyArray<string>,
    reason: RevocationReason,
    exp?: number
  ) => Effect.Effect<void>
  /** Whether `jti` is revoked. Synchronous, for use as a verifier predicate. */
  readonly isRevoked: (jti: string) => boolean
  /** The reason recorded for `jti`, if it is revoked. */
  readonly reasonOf: (jti: string) => RevocationReason | undefined
  /** A copy of the revoked `jti`s at this instant. */
  readonly snapshot: () => ReadonlySet<string>
  /** A counter bumped by every `revoke` call (never decreases): lets a replica tell it is behind. */
  readonly version: () => number
  /** Drops entries whose deadline has passed on both clocks; returns how many were dropped. */
  readonly purge: Effect.Effect<number>
}

/** Expired entries are swept by `revoke` at most this often (wall clock), or by `purge`. */
const SWEEP_INTERVAL_MS = 1000

interface Entry {
  readonly reason: RevocationReason
  /** `undefined`: kept for good. */
  readonly until: Deadline | undefined
}

/** Builds an empty in-memory revocation list; fails with `IdentityConfigError` on bad options. */
export const make = (
  options: RevocationListOptions = {}
): Effect.Effect<RevocationListService, IdentityConfigError> =>
  Effect.gen(function* () {
    const tolerance = yield* validateClockTolerance(options.toleranceSec)
    const margin = options.marginSec ?? 60
    if (!Number.isFinite(margin) || margin < 0) {
      return yield* Effect.fail(new IdentityConfigError({ reason: "bound" }))
    }
    const revoked = new Map<string, Entry>()
    let version = 0
    let nextSweepMs = Number.NEGATIVE_INFINITY

    const sweep = (now: Instant): number => {
      let dropped = 0
      for (const [jti, entry] of revoked) {
        if (entry.until !== undefined && hasPassed(entry.until, now)) {
          revoked.delete(jti)
          dropped++
        }
      }
      nextSweepMs = now.wallMs + SWEEP_INTERVAL_MS
      return dropped
    }

    const revoke = (jtis: ReadonlyArray<string>, reason: RevocationReason, exp?: number) =>
      Effect.gen(function* () {
        const now = yield* currentInstant
        const hasExp = typeof exp === "number" && Number.isFinite(exp)
        const until = hasExp ? deadlineAt(now, (exp + tolerance + margin) * 1000) : undefined
        for (const jti of jtis) {
          const existing = revoked.get(jti)
          if (existing === undefined) {
            revoked.set(jti, { reason, until })
          } else if (existing.until !== undefined) {
            revoked.set(jti, {
              reason: existing.reason,
              until: until === undefined ? undefined : later(existing.until, until)
            })
          }
        }
        version++
        if (now.wallMs >= nextSweepMs || now.wallMs < nextSweepMs - SWEEP_INTERVAL_MS) sweep(now)
      })

    return RevocationList.of({
      revoke,
      isRevoked: (jti) => revoked.has(jti),
      reasonOf: (jti) => revoked.get(jti)?.reason,
      snapshot: () => new Set(revoked.keys()),
      version: () => version,
      purge: Effect.map(currentInstant, sweep)
    })
  })

/** Context tag of the revocation list. */
export class RevocationList extends Context.Tag("@cordon/identity/RevocationList")<
  RevocationList,
  RevocationListService
>() {
  /** In-memory revocation list, empty at start, default options. */
  static readonly layer: Layer.Layer<RevocationList> = Layer.effect(RevocationList, Effect.orDie(make()))
  /** In-memory revocation list with options; fails with `IdentityConfigError` (`E_CONFIG`). */
  static readonly layerWith = (
    options: RevocationListOptions
  ): Layer.Layer<RevocationList, IdentityConfigError> => Layer.effect(RevocationList, make(options))
}
