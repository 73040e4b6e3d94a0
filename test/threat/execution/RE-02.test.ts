/**
 * RE-02 — memory blow-up. `resourceLimits` bound only a worker's JS heap, so every message between broker
 * and worker is also byte-capped (`maxMessageBytes`): a heap bomb ends its worker with
 * `ERR_WORKER_OUT_OF_MEMORY` → `E_RESOURCE_LIMIT` while the broker survives; an oversized answer or tool
 * result is refused before it is transferred; a buffer posted around the runtime is refused before the
 * broker processes it (and audited). The other tenant is unaffected throughout (G-ISO).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { assertOracles, auditSeq } from "../support/oracles.js"
import { type Hostile, startHostile } from "./hostileBroker.js"

let h: Hostile
beforeAll(async () => {
  h = await startHostile({
    workerResourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    maxMessageBytes: 1024 * 1024
  })
})
afterAll(() => h.stop())

const victimStillServed = async () => {
  const probe = await h.run("tenant-b", { mode: "run", label: "probe" }, "executor")
  expect(probe.status).toBe("succeeded")
}

describe("RE-02 memory blow-up", () => {
  it("RE-02 a heap bomb ends in E_RESOURCE_LIMIT; the broker survives and serves the other tenant", async () => {
    const bomb = await h.run("tenant-a", { mode: "heap-bomb" })
    expect(bomb.status).toBe("failed")
    expect(bomb.error?.code).toBe("E_RESOURCE_LIMIT")
    await victimStillServed()
    expect((await h.run("tenant-a", { mode: "run", label: "after" }, "executor")).status).toBe("succeeded")
  }, 60_000)

  it("RE-02 an agent output over maxMessageBytes is refused in the worker before transfer", async () => {
    const big = await h.run("tenant-a", { mode: "big-output", bytes: 2 * 1024 * 1024 })
    expect(big.status).toBe("failed")
    expect(big.error?.code).toBe("E_RESOURCE_LIMIT")
    expect(JSON.stringify(big).length).toBeLessThan(10_000)
    await victimStillServed()
  })

  it("RE-02 a tool result over maxMessageBytes is refused before the agent sees it", async () => {
    const big = await h.run("tenant-a", { mode: "big-tool", bytes: 2 * 1024 * 1024 })
    expect(big.status).toBe("failed")
    expect(big.error?.code).toBe("E_RESOURCE_LIMIT")
  })

  it("RE-02 a buffer bomb posted around the runtime is refused before processing and audited", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const bomb = await h.run("tenant-a", { mode: "buffer-post", bytes: 256 * 1024 * 1024 })
    expect(bomb.status).toBe("failed")
    expect(bomb.error?.code).toBe("E_RESOURCE_LIMIT")
    assertOracles(h.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: "tenant-a", code: "E_RESOURCE_LIMIT", action: "WorkerMessage" }],
      viewer: "tenant-a",
      texts: { response: JSON.stringify(bomb) }
    })
    await victimStillServed()
  }, 60_000)
})
