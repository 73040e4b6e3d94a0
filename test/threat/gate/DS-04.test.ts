/**
 * DS-04 — cross-agent confused deputy: a support agent with no refund scope of its own forwards "refund
 * order 42" to the finance agent. The finance agent acts on the caller's behalf: its effective scopes are
 * its token's ∩ the standing scopes of every agent in the chain, so the refund is refused with
 * `E_SCOPE_ESCALATION` (standing authority is never used for delegated work), the payment mock runs 0
 * times, and the one deny record binds both actors.
 */
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { assertOracles, auditSeq } from "../support/oracles.js"
import { A, type Gate, startGate } from "./support.js"

let gate: Gate
beforeAll(async () => {
  gate = await startGate()
})
afterAll(() => gate.stop())

const uri = (agent: string) => `spiffe://cordon.local/tenant/${A}/agent/${agent}`

describe("DS-04 confused deputy", () => {
  it("DS-04 a refund routed through support → E_SCOPE_ESCALATION; payment mock 0 calls; audit lists both actors", async () => {
    const seq = auditSeq(gate.broker.dataDir)
    const res = await gate.run(A, { agent: "support", intent: "support.handle", input: { ticket: "T-42" } })
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_SCOPE_ESCALATION")
    expect(gate.count(A, "payments.log")).toEqual([])

    const denies = gate.denies(A, seq)
    expect(denies).toHaveLength(1)
    const record = denies[0]!
    expect(record).toMatchObject({
      action: "InvokeTool",
      resource: `${A}/Tool/payment.refund`,
      workload: uri("finance"),
      chainDepth: 1
    })
    expect(record.reason).toContain("support → finance")
    const chain = createHash("sha256")
      .update(`${uri("support")} ${uri("finance")}`, "utf8")
      .digest("hex")
    expect(record.actorChainHash).toBe(chain)

    // The handoff itself was allowed (a token was minted for finance); only the deputy's use of its
    // standing authority was refused.
    const trace = await gate.trace(A, res.id)
    expect(
      trace.some((e) => e.kind === "handoff" && e.name === "→ finance" && e.attrs.jti !== undefined)
    ).toBe(true)
    expect(trace.some((e) => e.kind === "tool" && e.name === "payment.refund")).toBe(false)
    assertOracles(gate.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_SCOPE_ESCALATION" }],
      viewer: A,
      texts: { response: res.text, trace: JSON.stringify(trace) },
      tenant: A,
      settled: true
    })
  })

  it("DS-04 the same refund started by finance under its own intent runs once", async () => {
    const res = await gate.run(A, {
      agent: "finance",
      intent: "billing.refund",
      input: { order: 42, note: "approved by billing" }
    })
    expect(res.status).toBe("succeeded")
    expect(gate.count(A, "payments.log")).toEqual(["refund:42"])
  })
})
