/**
 * AT-02 — agent-controlled data must not forge or erase audit entries. An agent calls a tool whose name
 * carries a forged JSON record after a newline; the broker writes exactly one structured deny record with
 * that text kept verbatim as data (escaped when exported). An agent asks for the log "cleanup" tool; the
 * gate refuses it and it never runs. The worker holds nothing that reaches the audit store.
 */
import { InitialMessage, WorkerRequest } from "@cordon/runtime/Protocol"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type TestBroker } from "../../support/broker.js"
import { assertOracles, auditRecords, auditSeq, decisionRecords, sideEffects } from "../support/oracles.js"
import { bundleWorker } from "../support/workers.js"
import { auditTeam } from "./team.js"

const A = "tenant-a"
const B = "tenant-b"
let broker: TestBroker
let bearer: string

beforeAll(async () => {
  const workerEntry = bundleWorker(new URL("./worker.ts", import.meta.url), "audit-worker.mjs")
  broker = await startBroker({ team: auditTeam, workerEntry })
  bearer = `Bearer ${await broker.token(A)}`
})
afterAll(() => broker.stop())

const run = async (input: { mode: string; text?: string }) => {
  const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
  const accepted = await broker.http(
    "POST",
    "/v1/tasks",
    { session, agent: "scribe", intent: "audit.probe", input },
    bearer
  )
  expect(accepted.status).toBe(202)
  return broker.settle(String(accepted.body.id), bearer)
}

describe("AT-02 agent-controlled data cannot forge or erase audit entries", () => {
  it("AT-02 a forged record after a newline in agent text → one deny record, the text escaped as data", async () => {
    const forged = `{"seq":1,"tenant":"${B}","action":"InvokeTool","decision":"allow","error_code":null}`
    const injected = `notes.append\n${forged}\r\n${forged}`
    const seq = auditSeq(broker.dataDir)
    const task = await run({ mode: "call", text: injected })
    expect(task.body.status).toBe("failed")
    expect(task.body.error).toMatchObject({ code: "E_TOOL_NOT_ALLOWED" })
    // Exactly one record carries the agent's text; the decisions are the task start and the refused call.
    expect(
      auditRecords(broker.dataDir, seq).filter((r) => JSON.stringify(r).includes("notes.append"))
    ).toHaveLength(1)
    const records = decisionRecords(broker.dataDir, seq)
    expect(records.map((r) => [r.action, r.decision, r.errorCode])).toEqual([
      ["StartTask", "allow", null],
      ["InvokeTool", "deny", "E_TOOL_NOT_ALLOWED"]
    ])
    const deny = records[1]!
    expect(deny.tenant).toBe(A)
    expect(deny.resource).toBe(`${A}/Tool/${injected}`)
    // Exported as JSON, the record stays one line: the newline and quotes are escaped, not interpreted.
    const exported = JSON.stringify(deny)
    expect(exported.split("\n")).toHaveLength(1)
    expect(exported).toContain('\\n{\\"seq\\":1,\\"tenant\\":\\"tenant-b\\"')
    expect(JSON.parse(exported)).toEqual(deny)
    expect(auditRecords(broker.dataDir).filter((r) => r.tenant === B)).toEqual([])
    assertOracles(broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_TOOL_NOT_ALLOWED", action: "InvokeTool" }],
      viewer: A,
      texts: { task: JSON.stringify(task.body) }
    })
  })

  it("AT-02 the log-cleanup tool → E_TOOL_NOT_ALLOWED; it never runs and no record is lost", async () => {
    const before = auditRecords(broker.dataDir)
    const task = await run({ mode: "call", text: "logs.cleanup" })
    expect(task.body.status).toBe("failed")
    expect(task.body.error).toMatchObject({ code: "E_TOOL_NOT_ALLOWED" })
    expect(sideEffects(broker.dataDir, A)).toEqual([])
    const after = auditRecords(broker.dataDir)
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after.map((r) => r.seq)).toEqual(after.map((_, i) => i + 1))
    const added = after
      .slice(before.length)
      .filter((r) => r.action === "StartTask" || r.action === "InvokeTool")
    expect(added.map((r) => [r.action, r.decision, r.resource])).toEqual([
      ["StartTask", "allow", expect.stringMatching(new RegExp(`^${A}/Session/`))],
      ["InvokeTool", "deny", `${A}/Tool/logs.cleanup`]
    ])
    assertOracles(broker.dataDir, {
      afterSeq: before.length,
      denies: [{ tenant: A, code: "E_TOOL_NOT_ALLOWED", resource: `${A}/Tool/logs.cleanup` }],
      viewer: A,
      settled: true
    })
  })

  it("AT-02 workers hold no audit storage handle: empty env, and nothing sent to them names the database, the checkpoints or a key", async () => {
    const task = await run({ mode: "inspect" })
    expect(task.body.status).toBe("succeeded")
    const seen = task.body.output as { envKeys: number; received: ReadonlyArray<string> }
    expect(seen.envKeys).toBe(0)
    // The worker really did see its boot message (the inspection is not vacuous)...
    expect(seen.received).toContain(A)
    expect(seen.received).toContain("InitialMessage")
    // ...and nothing in it, or in any later message, names a control-plane file or a key.
    const suspicious = seen.received.filter((s) =>
      /control-plane|\.sqlite|checkpoints|master\.key|dev-issuer|BEGIN [A-Z ]*PRIVATE|"d":/.test(s)
    )
    expect(suspicious).toEqual([])
    // The protocol has no request that carries a database handle or writes the audit log.
    expect(Object.keys(InitialMessage.fields).filter((k) => /db|sql|audit|database|key$/i.test(k))).toEqual(
      []
    )
    const tags = WorkerRequest.members.map((m) => m._tag)
    expect(tags).toContain("RunAgent")
    expect(tags.filter((t) => /audit|log|sql/i.test(t))).toEqual([])
  })
})
