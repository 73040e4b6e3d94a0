/**
 * AT-03 — actions must not go ahead while the audit log is down. A real broker whose audit log is wrapped
 * by a fault switch: when the gate's audit append fails (or the sink throws), the tool call is refused with
 * `E_AUDIT_UNAVAILABLE` and the side-effecting tool never runs; with the sink healed, the same call runs.
 */
import { AuditLog } from "@cordon/store/AuditLog"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type TestBroker } from "../../support/broker.js"
import { makeAuditFault } from "../support/faults.js"
import { assertOracles, auditRecords, auditSeq, decisionRecords, sideEffects } from "../support/oracles.js"
import { bundleWorker } from "../support/workers.js"
import { auditTeam } from "./team.js"

const A = "tenant-a"
const fault = makeAuditFault()
let broker: TestBroker
let bearer: string
let submitted = 0

beforeAll(async () => {
  const workerEntry = bundleWorker(new URL("./worker.ts", import.meta.url), "audit-worker.mjs")
  broker = await startBroker({ team: auditTeam, workerEntry, wrapAuditLog: fault.wrap })
  bearer = `Bearer ${await broker.token(A)}`
})
afterAll(() => broker.stop())

const run = async (label: string) => {
  const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
  const accepted = await broker.http(
    "POST",
    "/v1/tasks",
    { session, agent: "scribe", intent: "audit.probe", input: { mode: "effect", text: label } },
    bearer
  )
  expect(accepted.status).toBe(202)
  submitted++
  return broker.settle(String(accepted.body.id), bearer)
}

const isToolCall = (e: { action: string }) => e.action === "InvokeTool"

describe("AT-03 side-effecting actions fail closed when the audit append fails", () => {
  it("AT-03 the gate's audit append fails → E_AUDIT_UNAVAILABLE, the tool never runs, nothing half-written", async () => {
    const seq = auditSeq(broker.dataDir)
    fault.fail(isToolCall)
    const task = await run("while-audit-down")
    fault.heal()
    expect(task.body.status).toBe("failed")
    expect(task.body.error).toMatchObject({ code: "E_AUDIT_UNAVAILABLE" })
    expect(sideEffects(broker.dataDir, A)).toEqual([])
    // The gate had decided "allow"; that decision could not be recorded, so it was not acted on.
    expect(
      fault
        .refused()
        .filter(isToolCall)
        .map((e) => e.decision)
    ).toEqual(["allow"])
    expect(decisionRecords(broker.dataDir, seq).map((r) => r.action)).toEqual(["StartTask"])
    expect(auditRecords(broker.dataDir, seq).filter((r) => r.action === "InvokeTool")).toEqual([])
    expect(JSON.stringify(task.body)).not.toMatch(/eyJ[\w-]+\.eyJ/)
    assertOracles(broker.dataDir, { afterSeq: seq, viewer: A, texts: { task: JSON.stringify(task.body) } })
  })

  it("AT-03 a sink that throws instead of failing → the same typed E_AUDIT_UNAVAILABLE, tool mock 0 calls", async () => {
    fault.fail(isToolCall, "throw")
    const task = await run("while-audit-crashes")
    fault.heal()
    expect(task.body.status).toBe("failed")
    expect(task.body.error).toMatchObject({ code: "E_AUDIT_UNAVAILABLE" })
    expect(sideEffects(broker.dataDir, A)).toEqual([])
  })

  it("AT-03 with the whole audit log down, the task is refused before any token is minted", async () => {
    const seq = auditSeq(broker.dataDir)
    fault.fail()
    const task = await run("audit-log-down")
    fault.heal()
    expect(task.body.status).toBe("failed")
    expect(task.body.error).toMatchObject({ code: "E_AUDIT_UNAVAILABLE" })
    expect(sideEffects(broker.dataDir, A)).toEqual([])
    expect(auditSeq(broker.dataDir)).toBe(seq)
  })

  it("AT-03 control: with the sink healed the same call runs once and is audited (allow)", async () => {
    const seq = auditSeq(broker.dataDir)
    const task = await run("audit-healthy")
    expect(task.body.status).toBe("succeeded")
    expect(sideEffects(broker.dataDir, A)).toEqual(["audit-healthy"])
    const records = decisionRecords(broker.dataDir, seq)
    expect(records.map((r) => [r.action, r.decision])).toEqual([
      ["StartTask", "allow"],
      ["InvokeTool", "allow"]
    ])
    const verified = await broker.runtime.runPromise(Effect.flatMap(AuditLog, (log) => log.verify()))
    expect(verified.valid).toBe(true)
    assertOracles(broker.dataDir, { afterSeq: seq, viewer: A, submitted, settled: true })
  })
})
