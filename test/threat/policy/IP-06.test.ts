/**
 * IP-06 — authorisation checked once while grants change mid-task (TOCTOU). Acceptance of issue 4:
 * changing a tenant's policy between two tool calls of one running task changes the second decision,
 * and the audit shows both policy versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestBroker } from "../../support/broker.js"
import { assertOracles, auditSeq } from "../support/oracles.js"
import {
  A,
  activatePolicy,
  bearerOf,
  mark,
  sessionRecords,
  startPolicyBroker,
  submit,
  until
} from "./support.js"

let broker: TestBroker
let user: string
let admin: string

beforeAll(async () => {
  broker = await startPolicyBroker()
  user = await bearerOf(broker, A, "alice")
  admin = await bearerOf(broker, A, "root", ["policy-admin"])
})
afterAll(() => broker.stop())

const revokeReport = `@id("a.revoke-report")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when { resource.name == "docs.read" && context.args.hasTag("doc") && context.args.getTag("doc") == "report" };`

describe("IP-06 a policy change between two calls of a running task", () => {
  it("IP-06 flips the second decision to PolicyDenied carrying the new policy version; audit shows both", async () => {
    const seq = auditSeq(broker.dataDir)
    const { task, session } = await submit(broker, user, "ledger.work", { mode: "twice" })
    // Step 1 ran (and the agent's second, locating call): both allowed under the platform set.
    const before = await until(() => {
      const calls = sessionRecords(broker, session, seq).filter((r) => r.action === "InvokeTool")
      return calls.length >= 2 ? calls : undefined
    })
    expect(before.every((r) => r.decision === "allow")).toBe(true)
    const versionBefore = before[0]!.policyVersion
    expect(versionBefore).toMatch(/^platform@[0-9a-f]{16}$/)

    const activated = await activatePolicy(broker, admin, revokeReport)
    expect(activated.policyVersion).toBe(`${versionBefore}+tenant@1`)
    mark(broker, A, "go")

    const done = await broker.settle(task, user)
    expect(done.body.status).toBe("succeeded")
    expect(done.body.output).toMatchObject({
      first: { ok: true, code: null },
      second: { ok: false, code: "E_POLICY_DENY" }
    })
    const calls = sessionRecords(broker, session, seq).filter((r) => r.action === "InvokeTool")
    expect(calls.map((r) => [r.decision, r.policyVersion])).toEqual([
      ["allow", versionBefore],
      ["allow", versionBefore],
      ["deny", activated.policyVersion]
    ])
    expect(calls[0]!.reason).toContain("platform.baseline")
    expect(calls[2]!.reason).toContain("a.revoke-report")
    assertOracles(broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_POLICY_DENY", action: "InvokeTool" }],
      viewer: A,
      texts: { task: JSON.stringify(done.body) }
    })
  })

  it("IP-06 a rollback (re-activating an older version) takes effect for the next call", async () => {
    const allowAll = `@id("a.noop") forbid (principal, action, resource) when { false };`
    const restored = await activatePolicy(broker, admin, allowAll)
    expect(restored.policyVersion).toMatch(/\+tenant@2$/)
    const rollback = await broker.http("POST", "/v1/policy/versions/1/activate", undefined, admin)
    expect(rollback.body).toMatchObject({ version: 1, policyVersion: expect.stringMatching(/\+tenant@1$/) })
    const versions = await broker.http("GET", "/v1/policy/versions", undefined, admin)
    expect(
      (versions.body as unknown as Array<{ version: number; active: boolean }>).map((v) => [
        v.version,
        v.active
      ])
    ).toEqual([
      [2, false],
      [1, true]
    ])
    // Not a policy admin: refused, nothing changes.
    const refused = await broker.http("POST", "/v1/policy/versions/2/activate", undefined, user)
    expect(refused).toMatchObject({ status: 403, body: { code: "E_FORBIDDEN_ROLE" } })
    const invalid = await broker.http(
      "POST",
      "/v1/policy/versions",
      { text: `@id("a.x") forbid (principal, action, resource) when { context.nope };` },
      admin
    )
    expect(invalid).toMatchObject({ status: 400, body: { code: "E_POLICY_INVALID" } })
    expect(String(invalid.body.message)).toMatch(/^policy\.cedar:1:\d+: \[a\.x\]/)
  })
})
