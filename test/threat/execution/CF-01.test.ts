/**
 * CF-01 — a crashing worker must not take the broker down. A tool or agent that throws an uncaught
 * exception or calls `process.exit()` ends only its tenant's worker thread: the broker keeps serving,
 * other tenants' tasks still succeed, the crashed task fails with `E_WORKER_CRASHED`, and the tenant's
 * next task runs on a fresh worker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sideEffects } from "../support/oracles.js"
import { type Hostile, startHostile } from "./hostileBroker.js"

let h: Hostile
beforeAll(async () => {
  h = await startHostile()
})
afterAll(() => h.stop())

describe("CF-01 crashing worker", () => {
  for (const mode of ["exit", "throw"]) {
    it(`CF-01 ${mode} in a worker fails only that task with E_WORKER_CRASHED`, async () => {
      const crashed = await h.run("tenant-a", { mode })
      expect(crashed.status).toBe("failed")
      expect(crashed.error?.code).toBe("E_WORKER_CRASHED")
      // The broker is up; the other tenant and the crashed tenant's next task both run.
      expect((await h.run("tenant-b", { mode: "run", label: "b" }, "executor")).status).toBe("succeeded")
      expect((await h.run("tenant-a", { mode: "run", label: "a" }, "executor")).status).toBe("succeeded")
      expect(sideEffects(h.broker.dataDir, "tenant-b")).toContain("executor:b")
    })
  }
})
