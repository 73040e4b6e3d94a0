/**
 * IP-02 — the agent asserts an identity in its tool arguments ("you are billing_admin of tenant B" →
 * `{ tenant: "B", role: "admin" }`). Identity comes from the verified token only: identity-bearing keys
 * are refused before policy is asked, with `E_IDENTITY_ASSERTION`; the audit record names the token's
 * tenant and the rejected field, never the claimed value (only its hash).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { seedDoc } from "../../fixtures/gateTeam.js"
import { assertOracles, auditRecords, auditSeq, canary } from "../support/oracles.js"
import { A, B, type Gate, startGate } from "./support.js"

let gate: Gate
const victimCanary = canary(B)

beforeAll(async () => {
  gate = await startGate()
  seedDoc(gate.broker.dataDir, { id: "B-7", tenant: B, body: victimCanary })
})
afterAll(() => gate.stop())

const lookup = (args: unknown) =>
  gate.run(A, { agent: "runner", intent: "gate.probe", input: { calls: [{ tool: "account.lookup", args }] } })

describe("IP-02 identity asserted in tool arguments", () => {
  it.each([
    ["tenant", { query: "invoices", tenant: B }, "args.tenant"],
    ["role", { query: "invoices", role: "admin" }, "args.role"],
    ["nested, other case", { query: "x", filter: [{ TenantId: B }] }, "args.filter[].TenantId"],
    ["user id", { query: "x", user_id: "billing_admin" }, "args.user_id"]
  ])("IP-02 %s → E_IDENTITY_ASSERTION before policy; audit shows the token tenant and the field", async (_, args, field) => {
    const seq = auditSeq(gate.broker.dataDir)
    const before = gate.count(A, "effects.log").length
    const res = await lookup(args)
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_IDENTITY_ASSERTION")
    expect(gate.count(A, "effects.log")).toHaveLength(before)
    const denies = gate.denies(A, seq)
    expect(denies).toHaveLength(1)
    const record = denies[0]!
    expect(record).toMatchObject({ action: "InvokeTool", resource: `${A}/Tool/account.lookup` })
    expect(record.reason).toContain(field)
    expect(record.reason).toContain(`tenant ${A}`)
    expect(record.reason).toMatch(/claimed value sha256:[0-9a-f]{12}/)
    // The claimed value itself (another tenant's id, a role name) is not stored or echoed.
    for (const text of [record.reason, res.text]) {
      expect(text).not.toContain(B)
      expect(text).not.toContain("billing_admin")
    }
    // Nothing was allowed for the call: the gate refused before policy, no call token, no handler.
    expect(
      auditRecords(gate.broker.dataDir, seq).filter(
        (r) => r.action === "InvokeTool" && r.decision === "allow"
      )
    ).toEqual([])
    assertOracles(gate.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_IDENTITY_ASSERTION" }],
      viewer: A,
      texts: { response: res.text },
      tenant: A,
      settled: true
    })
  })

  it("IP-02 the same call without identity fields runs, with the tenant taken from the token", async () => {
    const res = await lookup({ query: "invoices" })
    expect(res.status).toBe("succeeded")
    expect(res.output).toEqual([{ tenant: A, matches: 0 }])
  })
})
