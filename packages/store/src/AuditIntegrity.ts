/**
 * Whole-log integrity check (threat AT-01): the hash chain (`AuditChain`: an edited record, a broken link,
 * a missing `seq`) plus the signed checkpoints kept apart from the log (`AuditCheckpoints`: a truncated
 * tail, a rewritten history, a forged or damaged checkpoint). Used by `cordon audit verify` and the
 * threat-test oracles.
 *
 * @module
 */
import { Effect, Option } from "effect"
import type { AuditFault } from "./AuditChain.js"
import type { Checkpoint, CheckpointFile, CheckpointKey } from "./AuditCheckpoints.js"
import { AuditLog } from "./AuditLog.js"
import { AuditChainError, type AuditUnavailableError } from "./Errors.js"

/**
 * Why the log fails its integrity check: a chain fault (`hash`: record edited; `link`: `prev_hash`
 * broken; `gap`: a `seq` missing), `truncated` (a checkpoint names a `seq` past the log's last record),
 * `checkpoint_mismatch` (the record at a checkpoint's `seq` has another hash: history rewritten) or
 * `checkpoint_invalid` (a checkpoint line that does not parse, is signed by another key or whose signature
 * fails).
 */
export type IntegrityFault = AuditFault | "truncated" | "checkpoint_mismatch" | "checkpoint_invalid"

/**
 * Outcome of {@link verifyIntegrity}. `firstBad` (absent when `valid`) is the fault with the lowest `seq`:
 * for `truncated` the first missing `seq` (last record + 1), for `checkpoint_invalid` the checkpoint's
 * `seq`, or 0 for a line that does not parse. `checkpoints.unanchored` counts records after the latest
 * verified checkpoint (they are protected by the chain only, not yet against truncation).
 */
export interface IntegrityReport {
  readonly valid: boolean
  readonly records: number
  readonly lastSeq: number
  readonly firstBad?: { readonly seq: number; readonly reason: IntegrityFault }
  readonly checkpoints: {
    readonly count: number
    readonly verified: number
    readonly latestSeq: number
    readonly unanchored: number
  }
}

/**
 * Verifies the ambient `AuditLog` against `file` (see `readCheckpoints`) with `key`. Reads the whole log
 * once plus one record per checkpoint. Fails only with `AuditUnavailableError` (the log cannot be read).
 */
export const verifyIntegrity = (
  file: CheckpointFile,
  key: CheckpointKey
): Effect.Effect<IntegrityReport, AuditUnavailableError, AuditLog> =>
  Effect.gen(function* () {
    const log = yield* AuditLog
    const chain = yield* log.verify()
    const head = yield* log.head()
    const lastSeq = Option.match(head, { onNone: () => 0, onSome: (h) => h.seq })
    const faults: Array<{ seq: number; reason: IntegrityFault }> = []
    if (chain.firstBad !== undefined) faults.push(chain.firstBad)
    for (const _ of file.malformedLines) faults.push({ seq: 0, reason: "checkpoint_invalid" })
    let verified = 0
    let latestSeq = 0
    for (const checkpoint of file.checkpoints) {
      const fault = yield* checkOne(checkpoint, key, lastSeq)
      if (fault !== undefined) {
        faults.push(fault)
        continue
      }
      verified++
      latestSeq = Math.max(latestSeq, checkpoint.seq)
    }
    const firstBad = faults.reduce<(typeof faults)[number] | undefined>(
      (min, f) => (min === undefined || f.seq < min.seq ? f : min),
      undefined
    )
    const checkpoints = {
      count: file.checkpoints.length + file.malformedLines.length,
      verified,
      latestSeq,
      unanchored: Math.max(0, lastSeq - latestSeq)
    }
    const report: IntegrityReport =
      firstBad === undefined
        ? { valid: true, records: chain.records, lastSeq, checkpoints }
        : { valid: false, records: chain.records, lastSeq, firstBad, checkpoints }
    return report
  }).pipe(Effect.withSpan("AuditIntegrity.verify"))

const checkOne = (checkpoint: Checkpoint, key: CheckpointKey, lastSeq: number) =>
  Effect.gen(function* () {
    if (!key.verify(checkpoint)) return { seq: checkpoint.seq, reason: "checkpoint_invalid" as const }
    if (checkpoint.seq > lastSeq) return { seq: lastSeq + 1, reason: "truncated" as const }
    const log = yield* AuditLog
    const stored = yield* log.page({ afterSeq: checkpoint.seq - 1, limit: 1 }).pipe(
      Effect.map((rows) => rows[0]),
      // A row too damaged to decode cannot carry the checkpointed hash.
      Effect.catchTag("StoreError", () => Effect.succeed(undefined))
    )
    // A missing seq below the head is a gap, which the chain check reports itself.
    if (stored !== undefined && stored.seq !== checkpoint.seq) return undefined
    if (stored === undefined || stored.hash !== checkpoint.hash) {
      return { seq: checkpoint.seq, reason: "checkpoint_mismatch" as const }
    }
    return undefined
  })

/** The report's first fault as a typed error (`E_AUDIT_CHAIN`), or `undefined` when the log is intact. */
export const toChainError = (report: IntegrityReport): AuditChainError | undefined =>
  report.firstBad === undefined
    ? undefined
    : new AuditChainError({
        code: "E_AUDIT_CHAIN",
        reason: report.firstBad.reason,
        seq: report.firstBad.seq
      })

/** {@link verifyIntegrity}, failing with `AuditChainError` at the first fault. */
export const assertIntegrity = (
  file: CheckpointFile,
  key: CheckpointKey
): Effect.Effect<IntegrityReport, AuditChainError | AuditUnavailableError, AuditLog> =>
  Effect.flatMap(verifyIntegrity(file, key), (report) => {
    const error = toChainError(report)
    return error === undefined ? Effect.succeed(report) : Effect.fail(error)
  })
