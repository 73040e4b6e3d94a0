/**
 * CF-03: a failing dependency does not turn into a retry storm. Tenant A's dependency times out on every
 * call; after `failureThreshold` consecutive failures its circuit opens and further calls are refused
 * before the handler runs (`E_CIRCUIT_OPEN`, audited). Tenant B calls the same tool unaffected.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { defaults } from "@cordon/runtime/RuntimeConfig"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({
    upstream: { ...defaults.upstream, breaker: { failureThreshold: 3, cooldownMs: 60_000 } }
  })
})

afterAll(() => t.broker.stop())

const handlerCalls = (tenant: string) => {
  const file = path.join(t.broker.dataDir, "tenants", tenant, "flaky.log")
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0
}

describe("CF-03 circuit breaker per tenant and dependency", () => {
  it("CF-03 at 100% timeouts the breaker opens after 3 failures; retries stay within the bound; B unaffected", async () => {
    const a = await t.bearerOf("down-a")
    const b = await t.bearerOf("up-b")
    const sa = await t.openSession(a)
    const sb = await t.openSession(b)
    const storm = String((await t.submit(a, sa, { mode: "flaky", count: 20 })).body.id)
    const codes = ((await t.broker.settle(storm, a)).body.output as { codes: Array<string> }).codes
    expect(codes.slice(0, 3)).toEqual(Array(3).fill("E_UPSTREAM_TIMEOUT"))
    expect(codes.slice(3)).toEqual(Array(17).fill("E_CIRCUIT_OPEN"))
    expect(handlerCalls("down-a")).toBe(3)
    const open = auditRows(t.broker.dataDir, "down-a", "InvokeTool").filter(
      (r) => r.errorCode === "E_CIRCUIT_OPEN"
    )
    expect(open).toHaveLength(17)
    const calm = String((await t.submit(b, sb, { mode: "flaky", count: 5 })).body.id)
    expect(((await t.broker.settle(calm, b)).body.output as { codes: Array<string> }).codes).toEqual(
      Array(5).fill("ok")
    )
    expect(handlerCalls("up-b")).toBe(5)
  }, 60_000)
})
