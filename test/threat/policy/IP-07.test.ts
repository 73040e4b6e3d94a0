/**
 * IP-07 — an approval given for one action is used for another. A payment over 1,000 needs a human
 * approval (tenant policy `@approval("required")`); the approver sees the structured action, not prose.
 * The approval is bound to the hash of the canonical action (tool, arguments, tenant, session, task):
 * running X′ with X's approval → `E_APPROVAL_BINDING`; running X twice → `E_TOKEN_REPLAY`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestBroker } from "../../support/broker.js"
import { assertOracles, auditSeq, sideEffects } from "../support/oracles.js"
import {
  A,
  activatePolicy,
  B,
  bearerOf,
  mark,
  sessionRecords,
  startPolicyBroker,
  submit,
  tenantDir,
  until
} from "./support.js"
import * as fs from "node:fs"
import * as path from "node:path"

let broker: TestBroker
let user: string
let approver: string
let firstApproval = ""

const bigPayments = `@id("a.big-payment")
@approval("required")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when {
  resource.name == "payment.send" && !context.approved &&
  context.args.numbers.hasTag("amount") && context.args.numbers.getTag("amount") > 1000
};`

beforeAll(async () => {
  broker = await startPolicyBroker()
  user = await bearerOf(broker, A, "alice")
  approver = await bearerOf(broker, A, "carol", ["approver"])
  await activatePolicy(broker, await bearerOf(broker, A, "root", ["policy-admin"]), bigPayments)
})
afterAll(() => broker.stop())

const approvalFile = () => path.join(tenantDir(broker, A), "approval")

describe("IP-07 approvals are bound to the exact action, single-use", () => {
  it("IP-07 approve X, run X′ → E_APPROVAL_BINDING; run X → allowed once; run X again → E_TOKEN_REPLAY", async () => {
    const seq = auditSeq(broker.dataDir)
    const { task, session } = await submit(broker, user, "ledger.work", {
      mode: "pay",
      to: "bob",
      amount: 9000
    })
    const id = await until(() =>
      fs.existsSync(approvalFile()) ? fs.readFileSync(approvalFile(), "utf8") : undefined
    )
    expect(id).toMatch(/^apr-[0-9a-f]{32}$/)
    firstApproval = id

    // The approver sees the structured action; another tenant's approver cannot see or decide it.
    const view = await broker.http("GET", `/v1/approvals/${id}`, undefined, approver)
    expect(view.body).toMatchObject({
      status: "pending",
      tool: "payment.send",
      args: { to: "bob", amount: 9000 },
      agent: "clerk",
      session,
      task
    })
    const foreign = await bearerOf(broker, B, "eve", ["approver"])
    expect((await broker.http("POST", `/v1/approvals/${id}/approve`, undefined, foreign)).status).toBe(404)
    expect((await broker.http("POST", `/v1/approvals/${id}/approve`, undefined, user)).body).toMatchObject({
      code: "E_FORBIDDEN_ROLE"
    })
    const approved = await broker.http("POST", `/v1/approvals/${id}/approve`, undefined, approver)
    expect(approved.body).toMatchObject({ status: "approved", decidedBy: "carol" })

    mark(broker, A, "try-0", JSON.stringify({ to: "mallory", amount: 9000 }))
    mark(broker, A, "try-1", JSON.stringify({ to: "bob", amount: 9000 }))
    mark(broker, A, "try-2", JSON.stringify({ to: "bob", amount: 9000 }))
    const done = await broker.settle(task, user)
    expect(done.body.status).toBe("succeeded")
    expect(done.body.output).toMatchObject({
      asked: { ok: false, code: "E_APPROVAL_REQUIRED" },
      approval: id,
      attempts: [
        { ok: false, code: "E_APPROVAL_BINDING" },
        { ok: true, code: null },
        { ok: false, code: "E_TOKEN_REPLAY" }
      ]
    })
    expect(sideEffects(broker.dataDir, A, "payments.log")).toEqual(["bob:9000"])
    expect((await broker.http("GET", `/v1/approvals/${id}`, undefined, approver)).body).toMatchObject({
      status: "used"
    })

    const payments = sessionRecords(broker, session, seq).filter(
      (r) => r.resource === `${A}/Tool/payment.send`
    )
    expect(payments.map((r) => [r.decision, r.errorCode])).toEqual([
      ["deny", "E_APPROVAL_REQUIRED"],
      ["deny", "E_APPROVAL_BINDING"],
      ["allow", null],
      ["deny", "E_TOKEN_REPLAY"]
    ])
    expect(payments[0]!.reason).toContain(id)
    expect(payments[2]!.reason).toContain(`approval ${id} consumed`)
    assertOracles(broker.dataDir, {
      afterSeq: seq,
      denies: [
        { tenant: A, code: "E_APPROVAL_REQUIRED", action: "InvokeTool" },
        { tenant: A, code: "E_APPROVAL_BINDING", action: "InvokeTool" },
        { tenant: A, code: "E_TOKEN_REPLAY", action: "InvokeTool" },
        { tenant: A, code: "E_FORBIDDEN_ROLE", count: 0 }
      ],
      viewer: A,
      texts: { task: JSON.stringify(done.body), view: JSON.stringify(view.body) }
    })
  })

  it("IP-07 a rejected approval never runs the action; an approval of another task does not bind", async () => {
    fs.rmSync(approvalFile(), { force: true })
    for (const n of [0, 1, 2]) fs.rmSync(path.join(tenantDir(broker, A), `try-${n}`), { force: true })
    const first = await submit(broker, user, "ledger.work", { mode: "pay", to: "bob", amount: 5000 })
    const id = await until(() =>
      fs.existsSync(approvalFile()) ? fs.readFileSync(approvalFile(), "utf8") : undefined
    )
    const rejected = await broker.http("POST", `/v1/approvals/${id}/reject`, undefined, approver)
    expect(rejected.body).toMatchObject({ status: "rejected", decidedBy: "carol" })
    // A second decision on a decided approval is refused.
    expect((await broker.http("POST", `/v1/approvals/${id}/approve`, undefined, approver)).status).toBe(404)
    // The approval of the first task (same tenant, tool and recipient) is bound to another action.
    mark(broker, A, "try-0", JSON.stringify({ to: "bob", amount: 5000, approval: firstApproval }))
    mark(broker, A, "try-1", JSON.stringify({ to: "bob", amount: 5000 }))
    mark(broker, A, "try-2", "stop")
    const done = await broker.settle(first.task, user)
    expect(done.body.output).toMatchObject({
      attempts: [
        { ok: false, code: "E_APPROVAL_BINDING" },
        { ok: false, code: "E_APPROVAL_REJECTED" }
      ]
    })
    expect(sideEffects(broker.dataDir, A, "payments.log")).toEqual(["bob:9000"])
  })
})
