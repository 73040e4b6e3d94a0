/**
 * AT-01 — audit records edited, deleted or truncated. A real broker writes decisions and signed
 * checkpoints (every 2 records and at shutdown, into `<dataDir>/audit/checkpoints.jsonl`); then an insider
 * with write access to the database file drops the append-only triggers and edits record k, deletes a
 * record, truncates the tail, or rewrites the tail into a fresh self-consistent chain. `cordon audit verify`
 * (the real CLI, `--json`) and `verifyAuditDir` report each one at the right `seq` with exit code ≠ 0.
 */
import { verifyAuditDir } from "@cordon/server/AuditVerify"
import { hashAuditRecord } from "@cordon/store/AuditChain"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type TestBroker } from "../../support/broker.js"
import { auditRecords, checkAudit } from "../support/oracles.js"
import { bundleWorker } from "../support/workers.js"
import { auditTeam } from "./team.js"

const A = "tenant-a"
const cli = path.resolve(import.meta.dirname, "../../../apps/server/bin/cordon.mjs")
let broker: TestBroker
const copies: Array<string> = []

beforeAll(async () => {
  const workerEntry = bundleWorker(new URL("./worker.ts", import.meta.url), "audit-worker.mjs")
  broker = await startBroker({ team: auditTeam, workerEntry, auditCheckpointEvery: 2 })
  const bearer = `Bearer ${await broker.token(A)}`
  const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
  const inputs = [
    { mode: "effect", text: "at01" },
    { mode: "call", text: "logs.cleanup" },
    { mode: "effect", text: "at01" },
    { mode: "idle" },
    { mode: "call", text: "logs.cleanup" }
  ]
  for (const input of inputs) {
    const accepted = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "scribe", intent: "audit.probe", input },
      bearer
    )
    await broker.settle(String(accepted.body.id), bearer)
  }
  // Shutdown writes the final checkpoint; the data directory stays for the tampering below.
  await broker.runtime.dispose()
})
afterAll(async () => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true })
  await broker.stop()
})

/** A copy of the broker's data directory to tamper with, opened as an insider would (triggers dropped). */
const tamper = (f: (db: Database.Database) => void): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-at01-"))
  copies.push(dir)
  fs.cpSync(broker.dataDir, dir, { recursive: true })
  const db = new Database(path.join(dir, "control-plane.sqlite"))
  db.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete")
  f(db)
  db.close()
  return dir
}

const runCli = (dir: string) =>
  new Promise<{ code: number; json: Record<string, unknown> }>((resolve) => {
    execFile(
      process.execPath,
      [cli, "audit", "verify", "--data-dir", dir, "--json"],
      { env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "CORDON_MASTER_KEY")) },
      (error, stdout) => {
        const line =
          stdout
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .pop() ?? "{}"
        resolve({ code: error === null ? 0 : Number(error.code), json: JSON.parse(line) })
      }
    )
  })

const verify = (dir: string) => Effect.runPromise(verifyAuditDir({ dataDir: dir }))

describe("AT-01 audit records edited, deleted or truncated are detected", () => {
  it("AT-01 the untouched log verifies: chain, checkpoints every 2 records and one at shutdown", async () => {
    const records = auditRecords(broker.dataDir)
    expect(records.length).toBeGreaterThanOrEqual(8)
    const outcome = await verify(broker.dataDir)
    expect(outcome.exitCode).toBe(0)
    expect(outcome.json.report?.checkpoints).toMatchObject({ latestSeq: records.length, unanchored: 0 })
    expect(outcome.json.report?.checkpoints.verified).toBeGreaterThanOrEqual(Math.floor(records.length / 2))
    expect(checkAudit(broker.dataDir)).toEqual([])
  })

  it("AT-01 edit record k → AuditChainError at k; truncation → checkpoint beyond the tail (the real CLI, --json, exit ≠ 0)", async () => {
    const k = 4
    const edited = tamper((db) =>
      db.prepare("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = ?").run(k)
    )
    const last = auditRecords(broker.dataDir).length
    const truncated = tamper((db) => db.prepare("DELETE FROM audit_log WHERE seq > ?").run(last - 3))
    const [afterEdit, afterTruncation] = await Promise.all([runCli(edited), runCli(truncated)])
    expect(afterEdit.code).toBe(1)
    expect(afterEdit.json).toMatchObject({
      valid: false,
      error: { code: "E_AUDIT_CHAIN", reason: "hash", seq: k }
    })
    expect(afterTruncation.code).toBe(1)
    expect(afterTruncation.json).toMatchObject({
      valid: false,
      error: { code: "E_AUDIT_CHAIN", reason: "truncated", seq: last - 2 }
    })
  })

  it("AT-01 a deleted record k+1 → gap found by seq", async () => {
    const dir = tamper((db) => db.prepare("DELETE FROM audit_log WHERE seq = ?").run(5))
    const outcome = await verify(dir)
    expect(outcome.exitCode).toBe(1)
    expect(outcome.json.error).toEqual({ code: "E_AUDIT_CHAIN", reason: "gap", seq: 5 })
    expect(checkAudit(dir)).not.toEqual([])
  })

  it("AT-01 a tail rewritten into a fresh, self-consistent chain → checkpoint mismatch", async () => {
    const dir = tamper((db) => {
      const rows = db.prepare("SELECT * FROM audit_log WHERE seq > 2 ORDER BY seq").all() as Array<
        Record<string, string | number | null>
      >
      let prev = (db.prepare("SELECT hash FROM audit_log WHERE seq = 2").get() as { hash: string }).hash
      const update = db.prepare(
        "UPDATE audit_log SET decision = 'allow', error_code = NULL, reason = 'allowed', prev_hash = ?, hash = ? WHERE seq = ?"
      )
      for (const row of rows) {
        const record = {
          seq: Number(row.seq),
          ts: Number(row.ts),
          tenant: String(row.tenant),
          session: row.session === null ? null : String(row.session),
          workload: String(row.workload),
          intent: String(row.intent),
          actorChainHash: String(row.actor_chain_hash),
          chainDepth: Number(row.chain_depth),
          action: String(row.action),
          resource: String(row.resource),
          decision: "allow" as const,
          errorCode: null,
          reason: "allowed",
          policyVersion: String(row.policy_version),
          jtiHash: String(row.jti_hash),
          prevHash: prev
        }
        prev = hashAuditRecord(record)
        update.run(record.prevHash, prev, record.seq)
      }
    })
    const outcome = await verify(dir)
    expect(outcome.exitCode).toBe(1)
    // The chain alone is consistent again; only the checkpoint kept apart shows the rewrite.
    expect(outcome.json.error).toMatchObject({ code: "E_AUDIT_CHAIN", reason: "checkpoint_mismatch" })
  })

  it("AT-01 a checkpoint forged without the broker's key → checkpoint_invalid", async () => {
    const dir = tamper(() => undefined)
    const file = path.join(dir, "audit", "checkpoints.jsonl")
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    const lastCheckpoint = JSON.parse(lines[lines.length - 1] ?? "{}") as { seq: number }
    fs.appendFileSync(file, `${JSON.stringify({ ...lastCheckpoint, seq: lastCheckpoint.seq + 50 })}\n`)
    const outcome = await verify(dir)
    expect(outcome.exitCode).toBe(1)
    expect(outcome.json.error).toEqual({
      code: "E_AUDIT_CHAIN",
      reason: "checkpoint_invalid",
      seq: lastCheckpoint.seq + 50
    })
  })
})
