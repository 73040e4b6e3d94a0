/**
 * Store fault injection for threat tests: a switch wrapped around the broker's audit log.
 *
 *   const fault = makeAuditFault()
 *   const broker = await startBroker({ team, workerEntry, wrapAuditLog: fault.wrap })
 *   fault.fail((entry) => entry.action === "InvokeTool")   // typed failure (E_AUDIT_UNAVAILABLE)
 *   fault.fail(undefined, "throw")                          // the sink throws (a defect)
 *   fault.heal()
 */
import type { AuditEntry } from "@cordon/store"
import { AuditUnavailableError } from "@cordon/store/Errors"
import type { AuditLogService } from "@cordon/store/AuditLog"
import { Effect } from "effect"

export interface AuditFault {
  /** Pass as `startBroker({ wrapAuditLog })`. */
  readonly wrap: (log: AuditLogService) => AuditLogService
  /**
   * From now on, appends of entries matching `when` (default: every entry) are refused: `"fail"` with
   * `AuditUnavailableError`, `"throw"` with a thrown error (the sink crashing). Nothing is written.
   */
  readonly fail: (when?: (entry: AuditEntry) => boolean, mode?: "fail" | "throw") => void
  /** Appends go through again. */
  readonly heal: () => void
  /** Appends refused so far, with the entries they carried. */
  readonly refused: () => ReadonlyArray<AuditEntry>
}

/** A fresh audit-log fault switch (initially healthy). */
export const makeAuditFault = (): AuditFault => {
  let rule: { when: (entry: AuditEntry) => boolean; mode: "fail" | "throw" } | undefined
  const refused: Array<AuditEntry> = []
  return {
    wrap: (log) => ({
      ...log,
      append: (entry) =>
        Effect.suspend(() => {
          if (rule === undefined || !rule.when(entry)) return log.append(entry)
          refused.push(entry)
          if (rule.mode === "throw") {
            return Effect.sync(() => {
              throw new Error("audit sink crashed")
            })
          }
          return Effect.fail(
            new AuditUnavailableError({ code: "E_AUDIT_UNAVAILABLE", reason: "injected audit sink fault" })
          )
        })
    }),
    fail: (when = () => true, mode = "fail") => {
      rule = { when, mode }
    },
    heal: () => {
      rule = undefined
    },
    refused: () => [...refused]
  }
}
