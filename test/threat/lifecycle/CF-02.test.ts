/**
 * CF-02: a worker that dies holding tasks loses none of them. The queue is durable and outside the worker:
 * an idempotent agent's tasks go back to the queue and complete exactly once; a poison pill is
 * dead-lettered after `maxTaskCrashes` crashes; a non-idempotent agent's task fails with a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { balances, startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>
let bearer: string
let session: string

beforeAll(async () => {
  t = await startLifecycleBroker({ tenantConcurrency: 8, maxTaskCrashes: 3, taskTimeoutMs: 20_000 })
  bearer = await t.bearerOf("acme")
  session = await t.openSession(bearer)
})

afterAll(() => t.broker.stop())

const settled = async (ids: ReadonlyArray<string>) =>
  Promise.all(ids.map(async (id) => (await t.broker.settle(id, bearer)).body))

describe("CF-02 durable queue under worker crashes", () => {
  it("CF-02 kill the worker holding 5 tasks: all 5 complete exactly once and the ledger balances", async () => {
    const ids: Array<string> = []
    for (let i = 0; i < 4; i++) {
      ids.push(
        String((await t.submit(bearer, session, { mode: "sleep", ms: 1500, label: `cf02-${i}` })).body.id)
      )
    }
    await new Promise((r) => setTimeout(r, 300))
    ids.push(String((await t.submit(bearer, session, { mode: "crash-once", label: "cf02-killer" })).body.id))
    await t.until(
      async () => (await settled(ids)).every((task) => task.status !== "queued" && task.status !== "running"),
      20_000
    )
    const tasks = await settled(ids)
    expect(tasks.map((task) => task.status)).toEqual(Array(5).fill("succeeded"))
    // Every task was caught in the crash and ran again.
    expect(tasks.every((task) => Number(task.attempts) >= 2)).toBe(true)
    const effects = t.broker.effects("acme")
    for (const label of ["cf02-0", "cf02-1", "cf02-2", "cf02-3", "cf02-killer"]) {
      expect(effects.filter((line) => line === label)).toHaveLength(1)
    }
    expect(balances(await t.ledger("acme"))).toBe(true)
  }, 30_000)

  it("CF-02 a poison pill is dead-lettered after maxTaskCrashes crashes, never lost", async () => {
    const id = String((await t.submit(bearer, session, { mode: "crash", label: "poison" })).body.id)
    await t.until(async () => (await t.broker.settle(id, bearer)).body.status === "dead_lettered", 20_000)
    const task = (await t.broker.settle(id, bearer)).body
    expect(task.status).toBe("dead_lettered")
    expect(task.attempts).toBe(3)
    expect(String((task.error as { code: string }).code)).toMatch(/^E_WORKER_(CRASHED|FAILED)$/)
    expect(balances(await t.ledger("acme"))).toBe(true)
  }, 30_000)

  it("CF-02 a non-idempotent agent's task caught in a crash fails with a typed error, not retried", async () => {
    const id = String(
      (await t.submit(bearer, session, { mode: "crash", label: "fragile" }, "fragile")).body.id
    )
    const task = (await t.broker.settle(id, bearer)).body
    expect(task.status).toBe("failed")
    expect(task.attempts).toBe(1)
    expect(String((task.error as { code: string }).code)).toMatch(/^E_WORKER_(CRASHED|FAILED)$/)
    // The tenant still works after the crashes.
    const ok = String((await t.submit(bearer, session, { mode: "ok", label: "after" })).body.id)
    expect((await t.broker.settle(ok, bearer)).body.status).toBe("succeeded")
    expect(balances(await t.ledger("acme"))).toBe(true)
  }, 30_000)
})
