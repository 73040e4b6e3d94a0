/**
 * RE-04: recursive or fan-out spawning is capped per task. An agent that hands work off again and again
 * is refused past `maxHandoffsPerTask` (`E_QUOTA_EXCEEDED`, rule `broker.spawn-cap`, audited); the
 * helpers run on the tenant's one worker, so live workers never exceed the cap.
 */
import { TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { defaults } from "@cordon/runtime/RuntimeConfig"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({ maxWorkers: 3, upstream: { ...defaults.upstream, maxHandoffsPerTask: 8 } })
})

afterAll(() => t.broker.stop())

describe("RE-04 spawn caps", () => {
  it("RE-04 spawns past the per-task cap get E_QUOTA_EXCEEDED; live workers stay within maxWorkers", async () => {
    const a = await t.bearerOf("spawner")
    const session = await t.openSession(a)
    let peak = 0
    const watch = setInterval(() => {
      void t.broker.runtime
        .runPromise(Effect.flatMap(TenantWorkerPool, (p) => p.liveCount))
        .then((n) => (peak = Math.max(peak, n)))
    }, 20)
    const id = String((await t.submit(a, session, { mode: "fanout", count: 20, label: "re04" })).body.id)
    const codes = ((await t.broker.settle(id, a)).body.output as { codes: Array<string> }).codes
    clearInterval(watch)
    expect(codes.slice(0, 8)).toEqual(Array(8).fill("ok"))
    expect(codes.slice(8)).toEqual(Array(12).fill("E_QUOTA_EXCEEDED"))
    expect(t.broker.effects("spawner")).toHaveLength(8)
    const denies = auditRows(t.broker.dataDir, "spawner", "Handoff").filter(
      (r) => r.errorCode === "E_QUOTA_EXCEEDED"
    )
    expect(denies).toHaveLength(12)
    expect(peak).toBeLessThanOrEqual(3)
  }, 60_000)
})
