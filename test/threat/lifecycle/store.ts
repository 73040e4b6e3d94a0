/** Reads the audit records of `tenant` whose action is `action`, from the broker's control-plane database. */
import Database from "better-sqlite3"
import * as path from "node:path"

export interface AuditRow {
  readonly seq: number
  readonly action: string
  readonly resource: string
  readonly decision: string
  readonly error_code: string | null
  readonly reason: string
}

export const auditRows = (dataDir: string, tenant: string, action?: string): ReadonlyArray<AuditRow> => {
  const db = new Database(path.join(dataDir, "control-plane.sqlite"), { readonly: true, fileMustExist: true })
  try {
    return (
      action === undefined
        ? db.prepare("SELECT * FROM audit_log WHERE tenant = ? ORDER BY seq").all(tenant)
        : db
            .prepare("SELECT * FROM audit_log WHERE tenant = ? AND action = ? ORDER BY seq")
            .all(tenant, action)
    ) as ReadonlyArray<AuditRow>
  } finally {
    db.close()
  }
}

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
