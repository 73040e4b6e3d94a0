/**
 * `cordon audit verify`: checks the audit log's hash chain and its signed checkpoints (threat AT-01) and
 * reports the first bad record, a gap or a truncation. Exit codes: 0 intact, 1 `E_AUDIT_CHAIN` (tampered),
 * 4 `E_NOT_FOUND` (no control-plane database in the data directory), 7 `E_AUDIT_UNAVAILABLE` (the log or
 * the checkpoint file cannot be read). `--json` prints one machine-readable object.
 */
import * as MasterKeyFile from "@cordon/runtime/MasterKeyFile"
import { MasterKey } from "@cordon/identity/MasterKey"
import { checkpointFileOf, checkpointKey, readCheckpoints } from "@cordon/store/AuditCheckpoints"
import { type IntegrityReport, toChainError, verifyIntegrity } from "@cordon/store/AuditIntegrity"
import * as ControlPlane from "@cordon/store/ControlPlane"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option, Redacted } from "effect"
import { existsSync } from "node:fs"
import * as path from "node:path"

/** What `cordon audit verify` found: its exit code, the JSON it prints with `--json`, and its text line. */
export interface AuditVerifyOutcome {
  readonly exitCode: 0 | 1 | 4 | 7
  readonly json: {
    readonly valid: boolean
    readonly report?: IntegrityReport
    readonly error?: { readonly code: string; readonly reason: string; readonly seq?: number }
    readonly checkpointFile: string
    readonly checkpointKid?: string
  }
  readonly text: string
}

const explain: Record<string, string> = {
  hash: "record edited",
  link: "chain link broken",
  gap: "record missing",
  truncated: "log ends before a signed checkpoint",
  checkpoint_mismatch: "history rewritten under a signed checkpoint",
  checkpoint_invalid: "checkpoint forged or damaged"
}

/**
 * Verifies the audit log of the broker whose data lives in `dataDir` against the checkpoints in
 * `checkpointFile` (default `<dataDir>/audit/checkpoints.jsonl`), with the checkpoint key derived from
 * the same master key the broker uses (`CORDON_MASTER_KEY` or `<dataDir>/master.key`). Never fails.
 */
export const verifyAuditDir = (options: {
  readonly dataDir: string
  readonly checkpointFile?: string
}): Effect.Effect<AuditVerifyOutcome> => {
  const db = path.join(options.dataDir, "control-plane.sqlite")
  const checkpointFile = options.checkpointFile ?? checkpointFileOf(options.dataDir)
  if (!existsSync(db)) {
    const error = { code: "E_NOT_FOUND", reason: `no control-plane database in ${options.dataDir}` }
    return Effect.succeed({
      exitCode: 4,
      json: { valid: false, error, checkpointFile },
      text: `${error.code}: ${error.reason}`
    })
  }
  return Effect.gen(function* () {
    const master = yield* MasterKey
    const key = checkpointKey(Redacted.value(master.key))
    const file = yield* readCheckpoints(checkpointFile)
    const report = yield* verifyIntegrity(file, key)
    const chainError = toChainError(report)
    const cp = report.checkpoints
    const summary = `${report.records} records, ${cp.verified}/${cp.count} checkpoints verified (latest seq ${cp.latestSeq}, ${cp.unanchored} records after it)`
    if (chainError !== undefined) {
      const outcome: AuditVerifyOutcome = {
        exitCode: 1,
        json: {
          valid: false,
          report,
          error: { code: chainError.code, reason: chainError.reason, seq: chainError.seq },
          checkpointFile,
          checkpointKid: key.kid
        },
        text: `${chainError.code}: ${chainError.reason} at seq ${chainError.seq} (${explain[chainError.reason]}); ${summary}`
      }
      return outcome
    }
    const warning =
      report.records > 0 && cp.count === 0
        ? "; warning: no checkpoints found, a truncated tail cannot be detected"
        : ""
    const outcome: AuditVerifyOutcome = {
      exitCode: 0,
      json: { valid: true, report, checkpointFile, checkpointKid: key.kid },
      text: `audit log valid: ${summary}${warning}`
    }
    return outcome
  }).pipe(
    Effect.provide(ControlPlane.layerWithServices({ filename: db })),
    Effect.provide(MasterKeyFile.layer(options.dataDir)),
    Effect.catchAll((e) => {
      const tag = (e as { _tag?: string })._tag
      const error = {
        code: "E_AUDIT_UNAVAILABLE",
        reason:
          tag === "AuditUnavailableError"
            ? (e as { reason: string }).reason
            : tag === "And" || tag === "Or" || tag === "InvalidData" || tag === "MissingData"
              ? "the master key configuration is invalid"
              : "audit log could not be opened"
      }
      return Effect.succeed<AuditVerifyOutcome>({
        exitCode: 7,
        json: { valid: false, error, checkpointFile },
        text: `${error.code}: ${error.reason}`
      })
    })
  )
}

/** The `verify` subcommand of `cordon audit`. */
export const auditVerifyCommand = Command.make(
  "verify",
  {
    dataDir: Options.text("data-dir").pipe(
      Options.withDescription("data directory of the broker"),
      Options.withDefault(".cordon/data")
    ),
    checkpoints: Options.text("checkpoints").pipe(
      Options.withDescription("checkpoint file (default <data-dir>/audit/checkpoints.jsonl)"),
      Options.optional
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON object"))
  },
  ({ dataDir, checkpoints, json }) =>
    Effect.gen(function* () {
      const outcome = yield* verifyAuditDir({
        dataDir: path.resolve(process.cwd(), dataDir),
        ...(Option.isSome(checkpoints)
          ? { checkpointFile: path.resolve(process.cwd(), checkpoints.value) }
          : {})
      })
      const line = json ? JSON.stringify(outcome.json) : outcome.text
      yield* json || outcome.exitCode === 0 ? Console.log(line) : Console.error(line)
      if (outcome.exitCode !== 0) {
        yield* Effect.sync(() => {
          process.exitCode = outcome.exitCode
        })
      }
    })
).pipe(Command.withDescription("Verify the audit log's hash chain and its signed checkpoints"))
