import { Effect, Exit, Fiber, Queue } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { failureOf, fixture, makePool, type PoolHarness, runAgent, runOn } from "./poolHarness.js"

let h: PoolHarness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const outputOf = (exit: Exit.Exit<ReadonlyArray<unknown>, unknown>) =>
  Exit.isSuccess(exit)
    ? (exit.value.find((e) => (e as { _tag: string })._tag === "Output") as { output: unknown })
    : undefined

describe("TenantWorkerPool spawn", () => {
  it("spawns one worker per tenant on demand, with an empty env, never shared between tenants", async () => {
    h = await makePool()
    const a = outputOf(await runOn(h, "acme", "noop"))?.output as {
      tenant: string
      threadId: number
      envKeys: number
    }
    const b = outputOf(await runOn(h, "globex", "noop"))?.output as { tenant: string; threadId: number }
    expect(a.tenant).toBe("acme")
    expect(b.tenant).toBe("globex")
    expect(a.envKeys).toBe(0)
    expect(a.threadId).not.toBe(b.threadId)
    expect(await h.run(h.pool.liveCount)).toBe(2)
    expect([...(await h.run(h.pool.live))].sort()).toEqual(["acme", "globex"])
  })

  it("fails with E_WORKER_UNAVAILABLE when the entry throws at import, without hanging", async () => {
    h = await makePool({ workerStartMs: 5_000 }, fixture("throwingWorker.mjs"))
    const started = performance.now()
    const exit = await h.run(Effect.exit(h.pool.get("acme")))
    expect(failureOf(exit)).toMatchObject({ code: "E_WORKER_UNAVAILABLE" })
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(await h.run(h.pool.liveCount)).toBe(0)
  })

  it("fails with E_WORKER_UNAVAILABLE when the worker never becomes ready, within workerStartMs", async () => {
    for (const entry of ["silentWorker.mjs", "mutedWorker.mjs"]) {
      const pool = await makePool({ workerStartMs: 300 }, fixture(entry))
      const started = performance.now()
      const exit = await pool.run(Effect.exit(pool.pool.get("acme")))
      expect(failureOf(exit)).toMatchObject({
        code: "E_WORKER_UNAVAILABLE",
        reason: "worker not ready in time"
      })
      expect(performance.now() - started).toBeLessThan(1_500)
      expect(await pool.run(pool.pool.liveCount)).toBe(0)
      await pool.dispose()
    }
  })
})

describe("TenantWorkerPool global cap", () => {
  it("RE-04 never exceeds maxWorkers: evicts the LRU idle worker, else fails E_QUOTA_EXCEEDED spawn", async () => {
    h = await makePool({ maxWorkers: 2, spawnWaitMs: 200 })
    const a = await h.hold("a")
    const b = await h.hold("b")
    // Both busy: c waits spawnWaitMs, then is refused.
    const refused = await h.run(Effect.exit(h.pool.get("c")))
    expect(failureOf(refused)).toMatchObject({ code: "E_QUOTA_EXCEEDED", reason: "spawn" })
    expect(await h.run(h.pool.liveCount)).toBe(2)
    // a goes idle first, then b: c takes a's slot (least recently used).
    await a.release()
    await new Promise((r) => setTimeout(r, 20))
    await b.release()
    const c = outputOf(await runOn(h, "c", "noop"))?.output as { tenant: string; threadId: number }
    expect(c.tenant).toBe("c")
    expect(c.threadId).not.toBe(a.worker.threadId)
    expect([...(await h.run(h.pool.live))].sort()).toEqual(["b", "c"])
    expect(await h.run(h.pool.liveCount)).toBe(2)
    expect((await h.run(h.pool.stats)).exits.evicted).toBe(1)
  })

  it("a waiting tenant gets a slot as soon as a held worker is released", async () => {
    h = await makePool({ maxWorkers: 1, spawnWaitMs: 2_000 })
    const a = await h.hold("a")
    const pending = runOn(h, "b", "noop")
    await new Promise((r) => setTimeout(r, 100))
    await a.release()
    expect((outputOf(await pending)?.output as { tenant: string }).tenant).toBe("b")
  })

  it("stops idle workers after workerIdleMs", async () => {
    h = await makePool({ workerIdleMs: 100 })
    await runOn(h, "acme", "noop")
    expect(await h.run(h.pool.liveCount)).toBe(1)
    await new Promise((r) => setTimeout(r, 500))
    expect(await h.run(h.pool.liveCount)).toBe(0)
    expect((await h.run(h.pool.stats)).exits.idle).toBe(1)
  })
})

describe("TenantWorkerPool faults", () => {
  it("terminate(tenant) kills the worker now; its in-flight call fails E_WORKER_CRASHED terminated", async () => {
    h = await makePool()
    const harness = h
    const observed = await h.run(
      Effect.gen(function* () {
        const exits = yield* harness.pool.exits
        const worker = yield* harness.pool.get("acme")
        const call = yield* Effect.fork(Effect.exit(worker.executeEffect(runAgent("slow", { ms: 10_000 }))))
        yield* Effect.sleep(50)
        const killed = yield* harness.pool.terminate("acme")
        const exit = yield* Fiber.join(call)
        return { killed, exit, event: yield* Queue.take(exits) }
      })
    )
    expect(observed.killed).toBe(true)
    expect(failureOf(observed.exit as Exit.Exit<unknown, unknown>)).toMatchObject({
      code: "E_WORKER_CRASHED",
      reason: "terminated"
    })
    expect(observed.event).toMatchObject({ tenant: "acme", cause: "terminated", inFlight: 1 })
    expect(await h.run(h.pool.terminate("acme"))).toBe(false)
  })

  it("CF-01 a worker that exits fails only its own calls; the tenant's next call gets a new worker", async () => {
    h = await makePool()
    const first = await h.hold("acme")
    const crashed = await runOn(h, "acme", "exit")
    expect(failureOf(crashed)).toMatchObject({ code: "E_WORKER_CRASHED", reason: "crashed" })
    const other = outputOf(await runOn(h, "globex", "noop"))?.output as { tenant: string }
    expect(other.tenant).toBe("globex")
    await first.release()
    const again = await h.run(h.pool.get("acme"))
    expect(again.generation).toBe(first.worker.generation + 1)
    expect(again.threadId).not.toBe(first.worker.threadId)
  })

  it("CF-01 an uncaught exception in a worker fails its calls with E_WORKER_CRASHED", async () => {
    h = await makePool()
    expect(failureOf(await runOn(h, "acme", "throw"))).toMatchObject({ code: "E_WORKER_CRASHED" })
  })

  it("RE-02 a heap bomb ends in E_RESOURCE_LIMIT heap; the broker and other tenants carry on", async () => {
    h = await makePool({
      workerResourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 }
    })
    const bomb = await runOn(h, "acme", "oom")
    expect(failureOf(bomb)).toMatchObject({ code: "E_RESOURCE_LIMIT", reason: "heap" })
    expect((await h.run(h.pool.stats)).exits.out_of_memory).toBe(1)
    expect((outputOf(await runOn(h, "globex", "noop"))?.output as { tenant: string }).tenant).toBe("globex")
  }, 20_000)
})
