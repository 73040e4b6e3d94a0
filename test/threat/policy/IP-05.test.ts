/**
 * IP-05 — a hijacked agent acts outside the intent its task was started for. A "summarise the inbox"
 * task reads an email carrying an injection that tells the agent to email the data out; the intent
 * (set by the task creator, never by the model) allows neither `email.send` nor handoffs, so both are
 * denied with stable codes and audited, the email mock stays at 0 calls, and the benign part (the
 * summary) still completes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestBroker } from "../../support/broker.js"
import { assertOracles, auditSeq, sideEffects } from "../support/oracles.js"
import { A, bearerOf, sessionRecords, startPolicyBroker, submit } from "./support.js"

let broker: TestBroker
let user: string

beforeAll(async () => {
  broker = await startPolicyBroker()
  user = await bearerOf(broker, A, "alice")
})
afterAll(() => broker.stop())

describe("IP-05 actions outside the task's intent are denied", () => {
  it("IP-05 an injected email.send under inbox.summarize is denied; the summary still completes", async () => {
    const seq = auditSeq(broker.dataDir)
    const { task, session } = await submit(broker, user, "inbox.summarize", { mode: "summarize" })
    const done = await broker.settle(task, user)
    expect(done.body.status).toBe("succeeded")
    expect(done.body.output).toMatchObject({
      summary: "Quarterly numbers",
      injected: { ok: false, code: "E_TOOL_NOT_ALLOWED" }
    })
    expect(sideEffects(broker.dataDir, A, "outbox.log")).toEqual([])
    const denies = sessionRecords(broker, session, seq).filter((r) => r.decision === "deny")
    expect(denies.map((r) => [r.action, r.resource, r.intent])).toEqual([
      ["InvokeTool", `${A}/Tool/email.send`, "inbox.summarize"]
    ])
    expect(denies[0]?.reason).toContain("platform.intent-tool")
    assertOracles(broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_TOOL_NOT_ALLOWED", action: "InvokeTool" }],
      viewer: A,
      texts: { task: JSON.stringify(done.body) }
    })
  })

  it("IP-05 a handoff under an intent that does not list Handoff → E_INTENT_MISMATCH (platform.intent-action)", async () => {
    const seq = auditSeq(broker.dataDir)
    const { task, session } = await submit(broker, user, "inbox.summarize", { mode: "handoff" })
    const done = await broker.settle(task, user)
    expect(done.body.output).toMatchObject({ handoff: { ok: false, code: "E_INTENT_MISMATCH" } })
    const deny = sessionRecords(broker, session, seq).find((r) => r.decision === "deny")
    expect(deny).toMatchObject({ action: "Handoff", errorCode: "E_INTENT_MISMATCH" })
    expect(deny?.reason).toContain("platform.intent-action")
    // The same handoff under an intent that allows it runs.
    const allowed = await submit(broker, user, "ledger.work", { mode: "handoff" })
    expect((await broker.settle(allowed.task, user)).body.output).toMatchObject({ handoff: { ok: true } })
    assertOracles(broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_INTENT_MISMATCH", action: "Handoff" }],
      viewer: A,
      texts: { task: JSON.stringify(done.body) }
    })
  })
})
