/**
 * RE-03: one tenant cannot drain a shared upstream. Tenant A's agent loops through tool calls until its
 * per-tenant budget refuses (`E_QUOTA_EXCEEDED`, reason calls, audited); tenant B's calls in the same
 * window still succeed.
 */
import { defaults } from "@cordon/runtime/RuntimeConfig"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({
    upstream: {
      ...defaults.upstream,
      budgets: { windowMs: 60_000, tenantCalls: 12, tenantCost: 1000, sessionCalls: 1000 }
    }
  })
})

afterAll(() => t.broker.stop())

describe("RE-03 per-tenant budgets", () => {
  it("RE-03 a looping tenant hits its call budget (E_QUOTA_EXCEEDED) while another tenant's calls succeed", async () => {
    const a = await t.bearerOf("greedy")
    const b = await t.bearerOf("modest")
    const sa = await t.openSession(a)
    const sb = await t.openSession(b)
    const loop = String((await t.submit(a, sa, { mode: "loop", count: 30, label: "re03" })).body.id)
    const out = (await t.broker.settle(loop, a)).body.output as { codes: Array<string> }
    expect(out.codes.filter((c) => c === "ok")).toHaveLength(12)
    expect(out.codes.slice(12).every((c) => c === "E_QUOTA_EXCEEDED")).toBe(true)
    expect(t.broker.effects("greedy")).toHaveLength(12)
    const denies = auditRows(t.broker.dataDir, "greedy", "InvokeTool").filter(
      (r) => r.errorCode === "E_QUOTA_EXCEEDED"
    )
    expect(denies).toHaveLength(18)
    const fine = String((await t.submit(b, sb, { mode: "loop", count: 5, label: "re03-b" })).body.id)
    expect(((await t.broker.settle(fine, b)).body.output as { codes: Array<string> }).codes).toEqual(
      Array(5).fill("ok")
    )
  }, 60_000)
})
