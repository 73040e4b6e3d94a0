/**
 * Shared set-up of the lifecycle rows: a real broker serving the lifecycle team from its own bundled
 * worker, and small HTTP helpers (caller and operator).
 */
import { readFileSync } from "node:fs"
import * as path from "node:path"
import type { RuntimeConfigShape } from "@cordon/runtime/RuntimeConfig"
import { startBroker, type TestBroker } from "../../support/broker.js"
import { bundleWorker } from "../support/workers.js"
import { lifecycleTeam } from "./team.js"

export const startLifecycleBroker = async (config: Partial<RuntimeConfigShape> = {}) => {
  const workerEntry = bundleWorker(new URL("./worker.ts", import.meta.url), "lifecycle-worker.mjs")
  const broker = await startBroker({ team: lifecycleTeam, workerEntry, config })
  return withHelpers(broker)
}

export const withHelpers = (broker: TestBroker) => {
  const bearerOf = async (tenant: string) => `Bearer ${await broker.token(tenant)}`
  const operator = () => `Bearer ${readFileSync(path.join(broker.dataDir, "operator.token"), "utf8").trim()}`
  return {
    broker,
    bearerOf,
    operator,
    openSession: async (bearer: string) =>
      String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id),
    submit: (bearer: string, session: string, input: unknown, agent = "runner") =>
      broker.http("POST", "/v1/tasks", { session, agent, intent: "exec.run", input }, bearer),
    ledger: async (tenant?: string) =>
      (
        await broker.http(
          "GET",
          `/v1/admin/ledger${tenant === undefined ? "" : `?tenant=${tenant}`}`,
          undefined,
          operator()
        )
      ).body as Record<string, number>,
    /** Polls until `check` holds (at most `ms`). */
    until: async (check: () => boolean | Promise<boolean>, ms = 10_000) => {
      const end = Date.now() + ms
      while (Date.now() < end) {
        if (await check()) return true
        await new Promise((r) => setTimeout(r, 50))
      }
      return false
    }
  }
}

/** `submitted = queued + running + succeeded + failed + cancelled + deadLettered` (G-LOSS). */
export const balances = (l: Readonly<Record<string, number>>) => {
  const n = (k: string) => l[k] ?? Number.NaN
  return (
    n("submitted") ===
    n("queued") + n("running") + n("succeeded") + n("failed") + n("cancelled") + n("deadLettered")
  )
}
