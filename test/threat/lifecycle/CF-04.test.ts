/**
 * CF-04: bad upstream output is not executed downstream. A planner keeps emitting `records.purge`
 * steps: each is authorised on its own and refused (`E_TOOL_NOT_ALLOWED`); after `quarantineAfterDenials`
 * denials the agent is quarantined for the rest of its task (`agent.quarantine` audited once) and even its
 * harmless steps are refused with `E_AGENT_QUARANTINED`. The destructive step never runs.
 */
import { defaults } from "@cordon/runtime/RuntimeConfig"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({ upstream: { ...defaults.upstream, quarantineAfterDenials: 3 } })
})

afterAll(() => t.broker.stop())

describe("CF-04 executor re-authorises every step", () => {
  it("CF-04 purge steps are denied; after 3 denials the planner is quarantined (audited)", async () => {
    const a = await t.bearerOf("planner")
    const session = await t.openSession(a)
    const id = String((await t.submit(a, session, { mode: "bad-steps", count: 10, label: "cf04" })).body.id)
    const codes = ((await t.broker.settle(id, a)).body.output as { codes: Array<string> }).codes
    // Even steps are purge (denied), odd steps are a harmless side effect.
    expect(codes.slice(0, 5)).toEqual([
      "E_TOOL_NOT_ALLOWED",
      "ok",
      "E_TOOL_NOT_ALLOWED",
      "ok",
      "E_TOOL_NOT_ALLOWED"
    ])
    expect(codes.slice(5)).toEqual(Array(5).fill("E_AGENT_QUARANTINED"))
    expect(t.broker.effects("planner")).not.toContain("DELETED-ALL")
    expect(t.broker.effects("planner")).toEqual(["cf04", "cf04"])
    expect(auditRows(t.broker.dataDir, "planner", "agent.quarantine")).toHaveLength(1)
    // The next task starts with a clean slate.
    const next = String((await t.submit(a, session, { mode: "ok", label: "cf04-next" })).body.id)
    expect((await t.broker.settle(next, a)).body.status).toBe("succeeded")
  }, 60_000)
})
