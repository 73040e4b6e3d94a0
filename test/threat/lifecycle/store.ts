/** Reads what the broker stored: audit records (through the shared oracle reader) and background jobs. */
import type { AuditRecord } from "@cordon/store/Model"
import Database from "better-sqlite3"
import * as path from "node:path"
import { auditRecords } from "../support/oracles.js"

/** Audit records of `tenant` (all, or those whose action is `action`), in `seq` order. */
export const auditRows = (dataDir: string, tenant: string, action?: string): ReadonlyArray<AuditRecord> =>
  auditRecords(dataDir).filter((r) => r.tenant === tenant && (action === undefined || r.action === action))

/** Rows of the `jobs` table of `tenant`. */
export const jobRows = (dataDir: string, tenant: string) => {
  const db = new Database(path.join(dataDir, "control-plane.sqlite"), { readonly: true, fileMustExist: true })
  try {
    return db
      .prepare("SELECT * FROM jobs WHERE tenant = ? ORDER BY created_at")
      .all(tenant) as ReadonlyArray<{
      id: string
      status: string
      input: string
      reason: string | null
      deadline: number
      run_at: number
      generation: number
    }>
  } finally {
    db.close()
  }
}
