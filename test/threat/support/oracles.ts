/**
 * Oracles every threat test can run after its attack (THREATS.md §0), reading the broker's data directory
 * directly (a read-only SQLite connection, plain file reads), so they work with any test that starts a
 * real broker through `test/support/broker.ts`.
 *
 *   const seq = auditSeq(broker.dataDir)                  // before the attack
 *   ... attack ...
 *   assertOracles(broker.dataDir, {
 *     afterSeq: seq,
 *     denies: [{ tenant: "tenant-a", code: "E_TOOL_NOT_ALLOWED" }],   // G-AUD: exactly one record each
 *     viewer: "tenant-a",                                             // G-LEAK: no other tenant's canary
 *     texts: { response: JSON.stringify(res.body) },                  //   ... in these texts either
 *     settled: true                                                   // G-LOSS: nothing left in flight
 *   })
 *   expect(sideEffects(broker.dataDir, "tenant-a")).toHaveLength(0)  // the mock side effect never ran
 *
 * Each check also exists alone, returning a list of problems (empty = pass): `checkAudit` (G-AUD),
 * `scanTexts` / `scanDataDir` (G-LEAK), `checkLedger` (G-LOSS). Plant canaries with `canary(tenant)`.
 */
import { checkpointKey, readCheckpoints } from "@cordon/store/AuditCheckpoints"
import { verifyAuditRecords } from "@cordon/store/AuditChain"
import type { AuditRecord } from "@cordon/store/Model"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { expect } from "vitest"

/** A compact JWS/JWT (header and payload both JSON objects). */
export const JWT_SHAPE = /eyJ[\w-]+\.eyJ[\w-]+\./
/** A PEM armour line (private keys, certificates). */
export const PEM_SHAPE = /-----BEGIN [A-Z0-9 ]+-----/
/** `CANARY-<tenant>-<uuid>`; group 1 is the tenant. */
export const CANARY_SHAPE = /CANARY-(.+?)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/** A fresh canary owned by `tenant`: plant it in that tenant's data, then scan the others' views for it. */
export const canary = (tenant: string): string => `CANARY-${tenant}-${randomUUID()}`

const dbFile = (dataDir: string) => path.join(dataDir, "control-plane.sqlite")

const withDb = <A>(dataDir: string, f: (db: Database.Database) => A): A => {
  const db = new Database(dbFile(dataDir), { readonly: true, fileMustExist: true })
  try {
    return f(db)
  } finally {
    db.close()
  }
}

// ---------------------------------------------------------------------------------------------- G-AUD

/** The audit log's records after `afterSeq`, in `seq` order, as stored. */
export const auditRecords = (dataDir: string, afterSeq = 0): ReadonlyArray<AuditRecord> =>
  withDb(dataDir, (db) =>
    db
      .prepare(`SELECT seq, ts, tenant, session, workload, intent, actor_chain_hash AS actorChainHash,
        chain_depth AS chainDepth, action, resource, decision, error_code AS errorCode, reason,
        policy_version AS policyVersion, jti_hash AS jtiHash, prev_hash AS prevHash, hash
        FROM audit_log WHERE seq > ? ORDER BY seq`)
      .all(afterSeq)
  ) as ReadonlyArray<AuditRecord>

/** Actions that are policy decisions (the broker also records lifecycle events such as `task.teardown`). */
export const DECISION_ACTIONS: ReadonlySet<string> = new Set([
  "StartTask",
  "InvokeTool",
  "Handoff",
  "AccessRecord"
])

/** The policy-decision records after `afterSeq` (lifecycle records left out). */
export const decisionRecords = (dataDir: string, afterSeq = 0): ReadonlyArray<AuditRecord> =>
  auditRecords(dataDir, afterSeq).filter((r) => DECISION_ACTIONS.has(r.action))

/** The last audit `seq` (0 for an empty log): take it before an attack, pass it as `afterSeq`. */
export const auditSeq = (dataDir: string): number =>
  withDb(
    dataDir,
    (db) => (db.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_log").get() as { seq: number }).seq
  )

/** A deny the attack must have produced: exactly `count` (default 1) records match it. */
export interface ExpectedDeny {
  readonly tenant: string
  readonly code: string
  readonly action?: string
  readonly resource?: string
  readonly count?: number
}

/** The master key the broker of `dataDir` used (env `CORDON_MASTER_KEY`, else the development key file). */
const masterKeyOf = (dataDir: string): Uint8Array | undefined => {
  const file = path.join(dataDir, "master.key")
  const encoded = process.env.CORDON_MASTER_KEY ?? (existsSync(file) ? readFileSync(file, "utf8").trim() : "")
  return encoded === "" ? undefined : new Uint8Array(Buffer.from(encoded, "base64url"))
}

/**
 * G-AUD: each expected deny has exactly `count` deny records with its code (after `afterSeq`); every deny
 * record carries a code; no record holds anything token- or PEM-shaped; the whole hash chain verifies; and
 * every signed checkpoint (if any) verifies and matches the log.
 */
export const checkAudit = (
  dataDir: string,
  options: { readonly afterSeq?: number; readonly denies?: ReadonlyArray<ExpectedDeny> } = {}
): Array<string> => {
  const problems: Array<string> = []
  const all = auditRecords(dataDir)
  const recent = all.filter((r) => r.seq > (options.afterSeq ?? 0))
  for (const want of options.denies ?? []) {
    const found = recent.filter(
      (r) =>
        r.decision === "deny" &&
        r.tenant === want.tenant &&
        r.errorCode === want.code &&
        (want.action === undefined || r.action === want.action) &&
        (want.resource === undefined || r.resource === want.resource)
    ).length
    if (found !== (want.count ?? 1)) {
      problems.push(`G-AUD: ${found} deny records for ${JSON.stringify(want)}, expected ${want.count ?? 1}`)
    }
  }
  for (const r of recent) {
    if (r.decision === "deny" && (r.errorCode === null || r.errorCode === "")) {
      problems.push(`G-AUD: deny record ${r.seq} has no error code`)
    }
  }
  for (const r of all) {
    const text = JSON.stringify(r)
    if (JWT_SHAPE.test(text) || PEM_SHAPE.test(text)) problems.push(`G-AUD: record ${r.seq} holds a token`)
  }
  const chain = verifyAuditRecords(all)
  if (!chain.valid) problems.push(`G-AUD: chain broken at ${JSON.stringify(chain.firstBad)}`)
  problems.push(...checkCheckpoints(dataDir, all))
  return problems
}

const checkCheckpoints = (dataDir: string, all: ReadonlyArray<AuditRecord>): Array<string> => {
  const secret = masterKeyOf(dataDir)
  const file = Effect.runSync(readCheckpoints(path.join(dataDir, "audit", "checkpoints.jsonl")))
  if (file.checkpoints.length === 0 && file.malformedLines.length === 0) return []
  if (secret === undefined) return ["G-AUD: checkpoints exist but no master key to check them"]
  const key = checkpointKey(secret)
  const problems = file.malformedLines.map((n) => `G-AUD: checkpoint line ${n} malformed`)
  for (const c of file.checkpoints) {
    if (!key.verify(c)) problems.push(`G-AUD: checkpoint ${c.seq} signature invalid`)
    else if (all[c.seq - 1]?.hash !== c.hash)
      problems.push(`G-AUD: checkpoint ${c.seq} does not match the log`)
  }
  return problems
}

// --------------------------------------------------------------------------------------------- G-LEAK

/** One finding of a leak scan. */
export interface Leak {
  readonly where: string
  readonly kind: "canary" | "jwt" | "pem"
  readonly detail: string
}

const scan = (where: string, text: string, foreign: (tenant: string) => boolean): Array<Leak> => {
  const leaks: Array<Leak> = []
  for (const m of text.matchAll(CANARY_SHAPE)) {
    if (foreign(m[1] ?? "")) leaks.push({ where, kind: "canary", detail: `canary of ${m[1]}` })
  }
  if (JWT_SHAPE.test(text)) leaks.push({ where, kind: "jwt", detail: "JWT-shaped text" })
  if (PEM_SHAPE.test(text)) leaks.push({ where, kind: "pem", detail: "PEM marker" })
  return leaks
}

/**
 * G-LEAK over texts one tenant saw (responses, errors, traces, logs): no canary of another tenant than
 * `viewer` (with no `viewer`, no canary at all), nothing JWT- or PEM-shaped.
 */
export const scanTexts = (
  texts: Readonly<Record<string, string>> | ReadonlyArray<string>,
  options: { readonly viewer?: string } = {}
): Array<Leak> =>
  Object.entries(texts).flatMap(([where, text]) => scan(where, text, (t) => t !== options.viewer))

/** Files holding key material by design (the development master key and caller-token issuer key). */
const KEY_FILES = new Set(["master.key", "dev-issuer.jwk"])

/**
 * G-LEAK over every file of the data directory (SQLite files with their `-wal`/`-shm`, logs, checkpoint
 * files), read as bytes: a file under `tenants/<t>/` must hold no canary of another tenant; a shared file
 * no canary at all, except the control-plane database (it stores every tenant's task inputs), whose audit
 * records are scanned instead; no file but the key files may hold JWT- or PEM-shaped text.
 */
export const scanDataDir = (dataDir: string): Array<Leak> => {
  const leaks: Array<Leak> = []
  for (const rel of readdirSync(dataDir, { recursive: true }).map(String)) {
    const file = path.join(dataDir, rel)
    if (!statSync(file).isFile() || KEY_FILES.has(rel)) continue
    const parts = rel.split(path.sep)
    const owner = parts[0] === "tenants" ? parts[1] : undefined
    const shared = owner === undefined
    const controlPlane = rel.startsWith("control-plane.sqlite")
    const text = readFileSync(file).toString("latin1")
    leaks.push(...scan(rel, text, (t) => (controlPlane ? false : shared ? true : t !== owner)))
  }
  for (const r of auditRecords(dataDir)) {
    leaks.push(...scan(`audit_log#${r.seq}`, JSON.stringify(r), () => true))
  }
  return leaks
}

// --------------------------------------------------------------------------------------------- G-LOSS

/** Task counts by status, read from the control-plane database. */
export interface Ledger {
  readonly submitted: number
  readonly byStatus: Readonly<Record<string, number>>
  readonly inFlight: number
  /** Failed, cancelled or dead-lettered tasks recorded without an error code (a reason). */
  readonly endedWithoutReason: number
}

const TERMINAL = ["succeeded", "failed", "cancelled", "dead_lettered"]
const IN_FLIGHT = ["queued", "running"]

/** The task ledger, of one tenant or of all. */
export const taskLedger = (dataDir: string, tenant?: string): Ledger =>
  withDb(dataDir, (db) => {
    const where = tenant === undefined ? "" : "WHERE tenant = ?"
    const args = tenant === undefined ? [] : [tenant]
    const rows = db
      .prepare(`SELECT status, COUNT(*) AS n,
        SUM(CASE WHEN status IN ('failed', 'cancelled', 'dead_lettered') AND error_code IS NULL THEN 1 ELSE 0 END) AS bare
        FROM tasks ${where} GROUP BY status`)
      .all(...args) as Array<{ status: string; n: number; bare: number }>
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]))
    return {
      submitted: rows.reduce((s, r) => s + r.n, 0),
      byStatus,
      inFlight: IN_FLIGHT.reduce((s, k) => s + (byStatus[k] ?? 0), 0),
      endedWithoutReason: rows.reduce((s, r) => s + r.bare, 0)
    }
  })

/**
 * G-LOSS: submitted = succeeded + failed + cancelled + dead_lettered + in flight, with no task in an
 * unknown state and none ended without a reason; `submitted` (when given) is the number the test
 * submitted; `settled` demands nothing is left in flight.
 */
export const checkLedger = (
  dataDir: string,
  options: { readonly tenant?: string; readonly submitted?: number; readonly settled?: boolean } = {}
): Array<string> => {
  const ledger = taskLedger(dataDir, options.tenant)
  const problems: Array<string> = []
  const known = [...TERMINAL, ...IN_FLIGHT].reduce((s, k) => s + (ledger.byStatus[k] ?? 0), 0)
  if (known !== ledger.submitted)
    problems.push(`G-LOSS: tasks in unknown states ${JSON.stringify(ledger.byStatus)}`)
  if (options.submitted !== undefined && ledger.submitted !== options.submitted) {
    problems.push(`G-LOSS: ${ledger.submitted} tasks recorded, ${options.submitted} submitted`)
  }
  if (options.settled === true && ledger.inFlight !== 0)
    problems.push(`G-LOSS: ${ledger.inFlight} tasks in flight`)
  if (ledger.endedWithoutReason !== 0)
    problems.push(`G-LOSS: ${ledger.endedWithoutReason} tasks ended without a reason`)
  return problems
}

// ------------------------------------------------------------------------------------- side effects

/** Lines a counting mock tool appended to `tenants/<tenant>/<file>` (each line = one side effect). */
export const sideEffects = (dataDir: string, tenant: string, file = "effects.log"): ReadonlyArray<string> => {
  const target = path.join(dataDir, "tenants", tenant, file)
  return existsSync(target) ? readFileSync(target, "utf8").split("\n").filter(Boolean) : []
}

// ------------------------------------------------------------------------------------------ together

/** Runs G-AUD, G-LEAK (texts and data directory) and G-LOSS, and fails the test on any problem. */
export const assertOracles = (
  dataDir: string,
  options: {
    readonly afterSeq?: number
    readonly denies?: ReadonlyArray<ExpectedDeny>
    readonly viewer?: string
    readonly texts?: Readonly<Record<string, string>> | ReadonlyArray<string>
    readonly tenant?: string
    readonly submitted?: number
    readonly settled?: boolean
  } = {}
): void => {
  const problems = [
    ...checkAudit(dataDir, {
      ...(options.afterSeq !== undefined ? { afterSeq: options.afterSeq } : {}),
      ...(options.denies !== undefined ? { denies: options.denies } : {})
    }),
    ...scanTexts(options.texts ?? {}, options.viewer !== undefined ? { viewer: options.viewer } : {}).map(
      (l) => `G-LEAK: ${l.detail} in ${l.where}`
    ),
    ...scanDataDir(dataDir).map((l) => `G-LEAK: ${l.detail} in ${l.where}`),
    ...checkLedger(dataDir, {
      ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
      ...(options.submitted !== undefined ? { submitted: options.submitted } : {}),
      ...(options.settled !== undefined ? { settled: options.settled } : {})
    })
  ]
  expect(problems).toEqual([])
}
