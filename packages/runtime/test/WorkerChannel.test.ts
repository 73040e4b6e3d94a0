import { Effect, Exit, Fiber, Queue } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { failureOf, makePool, type PoolHarness, runAgent, runOn } from "./poolHarness.js"

let h: PoolHarness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const settle = () => new Promise((r) => setTimeout(r, 50))

describe("worker → broker messages (strict decoding)", () => {
  it("IC-01 an event with an extra field is refused (E_MESSAGE_INTEGRITY schema) and audited", async () => {
    h = await makePool()
    const exit = await runOn(h, "acme", "extra")
    expect(failureOf(exit)).toMatchObject({ code: "E_MESSAGE_INTEGRITY", reason: "schema" })
    expect(h.audits).toEqual([
      expect.objectContaining({
        tenant: "acme",
        action: "WorkerMessage",
        resource: "acme/Worker/RunAgent",
        decision: "deny",
        errorCode: "E_MESSAGE_INTEGRITY",
        reason: "schema"
      })
    ])
  })

  it("IC-01 an event with an unknown tag is refused and audited, never handed to the caller", async () => {
    h = await makePool()
    const exit = await runOn(h, "acme", "unknown-tag")
    expect(failureOf(exit)).toMatchObject({ code: "E_MESSAGE_INTEGRITY", reason: "schema" })
    expect(h.audits.map((a) => a.reason)).toEqual(["schema"])
  })

  it("IC-03 a MessagePort smuggled in an answer is closed, refused as unknown_sender and audited", async () => {
    h = await makePool()
    const exit = await runOn(h, "acme", "port")
    expect(failureOf(exit)).toMatchObject({ code: "E_MESSAGE_INTEGRITY", reason: "unknown_sender" })
    expect(h.audits.map((a) => [a.errorCode, a.reason])).toEqual([["E_MESSAGE_INTEGRITY", "unknown_sender"]])
  })

  it("IC-03 an answer to a request the broker never sent is dropped and audited; the real call completes", async () => {
    h = await makePool()
    const exit = await runOn(h, "acme", "forge")
    expect(Exit.isSuccess(exit) && exit.value).toEqual([{ _tag: "Output", output: { tenant: "acme" } }])
    await settle()
    expect(h.audits.map((a) => [a.errorCode, a.reason, a.resource])).toEqual([
      ["E_MESSAGE_INTEGRITY", "unknown_sender", "acme/Worker/unknown"]
    ])
  })

  it("RE-02 an answer over maxMessageBytes is refused before processing with E_RESOURCE_LIMIT", async () => {
    h = await makePool({ maxMessageBytes: 64 * 1024 })
    const big = await runOn(h, "acme", "big", { bytes: 100 * 1024 })
    expect(failureOf(big)).toMatchObject({ code: "E_RESOURCE_LIMIT", reason: "message_size" })
    const buffer = await runOn(h, "acme", "buffer", { bytes: 64 * 1024 * 1024 })
    expect(failureOf(buffer)).toMatchObject({ code: "E_RESOURCE_LIMIT", reason: "message_size" })
    const small = await runOn(h, "acme", "buffer", { bytes: 16 })
    expect(failureOf(small)).toMatchObject({ code: "E_MESSAGE_INTEGRITY", reason: "schema" })
    expect(h.audits.map((a) => a.errorCode)).toEqual([
      "E_RESOURCE_LIMIT",
      "E_RESOURCE_LIMIT",
      "E_MESSAGE_INTEGRITY"
    ])
  })

  it("RE-02 a request over maxMessageBytes is refused before it is posted", async () => {
    h = await makePool({ maxMessageBytes: 64 * 1024 })
    const exit = await runOn(h, "acme", "noop", { blob: "y".repeat(100 * 1024) })
    expect(failureOf(exit)).toMatchObject({ code: "E_RESOURCE_LIMIT", reason: "message_size" })
    // The worker is untouched and still serves the tenant.
    expect(Exit.isSuccess(await runOn(h, "acme", "noop"))).toBe(true)
  })
})

describe("deadlines and stuck workers", () => {
  it("RE-01 withDeadline stops a worker in a loop that never yields; only that tenant is affected", async () => {
    h = await makePool({ workerProbeMs: 100 })
    const harness = h
    const result = await h.run(
      Effect.gen(function* () {
        const exits = yield* harness.pool.exits
        // Warm both tenants' workers first.
        yield* Effect.scoped(harness.pool.get("a"))
        yield* Effect.scoped(harness.pool.get("b"))
        const spinning = yield* Effect.fork(
          Effect.exit(
            harness.pool.withDeadline(
              "a",
              300,
              Effect.scoped(Effect.flatMap(harness.pool.get("a"), (w) => w.executeEffect(runAgent("spin"))))
            )
          )
        )
        yield* Effect.sleep(50)
        const started = performance.now()
        const b = yield* Effect.scoped(
          Effect.flatMap(harness.pool.get("b"), (w) => w.executeEffect(runAgent("noop")))
        )
        const bMs = performance.now() - started
        const a = yield* Fiber.join(spinning)
        const exit = yield* Queue.take(exits)
        return { a, b, bMs, exit }
      })
    )
    expect(result.b).toMatchObject({ _tag: "Output", output: { tenant: "b" } })
    expect(result.bMs).toBeLessThan(250)
    expect(failureOf(result.a)).toMatchObject({ code: "E_TASK_TIMEOUT" })
    expect(result.exit).toMatchObject({ tenant: "a", cause: "deadline" })
    // The tenant's next call gets a fresh worker.
    expect(failureOf(await runOn(h, "a", "noop"))).toBeUndefined()
  })

  it("an interrupted call on a stuck worker gets it terminated (unresponsive); a healthy one is kept", async () => {
    h = await makePool({ workerProbeMs: 100 })
    const harness = h
    const causes = await h.run(
      Effect.gen(function* () {
        const exits = yield* harness.pool.exits
        const call = (agent: string) =>
          Effect.scoped(
            Effect.flatMap(harness.pool.get("a"), (w) => w.executeEffect(runAgent(agent, { ms: 5_000 })))
          )
        yield* Effect.exit(Effect.timeout(call("slow"), 100))
        yield* Effect.sleep(300)
        const afterSlow = yield* Queue.size(exits)
        yield* Effect.exit(Effect.timeout(call("spin"), 100))
        const exit = yield* Queue.take(exits)
        return { afterSlow, exit }
      })
    )
    expect(causes.afterSlow).toBe(0)
    expect(causes.exit).toMatchObject({ tenant: "a", cause: "unresponsive" })
  })
})
