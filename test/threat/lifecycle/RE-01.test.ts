/**
 * RE-01: a CPU runaway in one tenant starves only itself. Tenant A's agent spins without yielding; its
 * task ends with `E_TASK_TIMEOUT` at the deadline (the stuck thread is terminated), while tenant B's tasks
 * keep completing meanwhile, and A works again afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { balances, startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({ taskTimeoutMs: 2000 })
})

afterAll(() => t.broker.stop())

describe("RE-01 CPU runaway", () => {
  it("RE-01 a spinning agent gets E_TASK_TIMEOUT; another tenant's probes all succeed meanwhile", async () => {
    const a = await t.bearerOf("spinner")
    const b = await t.bearerOf("calm")
    const sa = await t.openSession(a)
    const sb = await t.openSession(b)
    const spin = String((await t.submit(a, sa, { mode: "spin" }, "fragile")).body.id)
    const probes: Array<string> = []
    for (let i = 0; i < 5; i++) {
      probes.push(String((await t.submit(b, sb, { mode: "ok", label: `re01-${i}` })).body.id))
      await new Promise((r) => setTimeout(r, 150))
    }
    for (const id of probes) expect((await t.broker.settle(id, b)).body.status).toBe("succeeded")
    expect(
      await t.until(async () => (await t.broker.settle(spin, a)).body.status !== "running", 20_000)
    ).toBe(true)
    const task = (await t.broker.settle(spin, a)).body
    expect(task.status).toBe("failed")
    expect((task.error as { code: string }).code).toBe("E_TASK_TIMEOUT")
    // The runaway's tenant recovers: a fresh worker serves its next task.
    const next = String((await t.submit(a, sa, { mode: "ok", label: "re01-after" })).body.id)
    expect((await t.broker.settle(next, a)).body.status).toBe("succeeded")
    expect(balances(await t.ledger())).toBe(true)
  }, 60_000)
})
