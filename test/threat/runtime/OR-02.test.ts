/**
 * OR-02 — revoking a parent must kill its children. A running task's root token is revoked through the API
 * while a delegated agent is mid-flight; the child's next tool call is refused although the child token
 * itself was never revoked, the side effect never runs, and the deny is audited.
 */
import { Credentials } from "@cordon/store/Credentials"
import { AuditLog } from "@cordon/store/AuditLog"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"

let broker: TestBroker
let bearer: string

beforeAll(async () => {
  broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  bearer = `Bearer ${await broker.token("acme")}`
})
afterAll(() => broker.stop())

const effects = () => broker.effects("acme")

describe("OR-02 revocation cascades to delegated tokens", () => {
  it("OR-02 after the root grant is revoked, the child's call fails with E_TOKEN_REVOKED (ancestor_revoked) and the side effect never runs", async () => {
    const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
    const accepted = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "stall", ms: 800 } },
      bearer
    )
    const taskId = String(accepted.body.id)
    // Wait until the handoff has been minted (two credentials: root for lead, child for worker).
    let creds: ReadonlyArray<{ jti: string; revoked: boolean }> = []
    for (let i = 0; i < 50 && creds.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50))
      creds = await broker.runtime.runPromise(
        Effect.flatMap(Credentials, (c) => c.select({ tenant: "acme", task: taskId }))
      )
    }
    expect(creds).toHaveLength(2)
    const root = creds[0]
    const before = effects().length
    const res = await broker.http("POST", "/v1/revocations", { jti: root!.jti }, bearer)
    expect(res.body).toEqual({ revoked: 1 })

    const task = await broker.settle(String(taskId), bearer)
    expect(task.body.status).toBe("failed")
    expect((task.body.error as { code: string }).code).toBe("E_TOKEN_REVOKED")
    expect(effects().length).toBe(before)
    const records = await broker.runtime.runPromise(
      Effect.flatMap(AuditLog, (a) => a.list({ tenant: "acme", limit: 1000 }))
    )
    const deny = records.filter((r) => r.decision === "deny" && r.errorCode === "E_TOKEN_REVOKED")
    expect(deny.length).toBeGreaterThanOrEqual(1)
    expect(JSON.stringify(records)).not.toMatch(/eyJ[\w-]+\.eyJ/)
  })

  it("OR-02 revocation by root task, session and agent reaches every credential they cover, and never another tenant's", async () => {
    const other = `Bearer ${await broker.token("globex")}`
    const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
    const accepted = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "stall", ms: 600 } },
      bearer
    )
    const taskId = String(accepted.body.id)
    await new Promise((r) => setTimeout(r, 300))
    const foreign = await broker.http("POST", "/v1/revocations", { task: taskId }, other)
    expect(foreign.body).toEqual({ revoked: 0 })
    const empty = await broker.http("POST", "/v1/revocations", {}, bearer)
    expect(empty.status).toBe(400)
    const res = await broker.http("POST", "/v1/revocations", { task: taskId }, bearer)
    expect(res.body).toEqual({ revoked: 2 })
    const again = await broker.http("POST", "/v1/revocations", { session }, bearer)
    expect(again.body).toEqual({ revoked: 0 })
  })
})
