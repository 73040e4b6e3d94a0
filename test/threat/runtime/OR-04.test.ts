/**
 * OR-04 — the revocation check must not fail open. A tenant worker that has not heard from the broker's
 * revocation list within the configured bound refuses tool calls (fail closed) with a typed code; the side
 * effect does not run and the refusal is audited by the broker.
 */
import { AuditLog } from "@cordon/store/AuditLog"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"

let broker: TestBroker
let bearer: string

beforeAll(async () => {
  // The heartbeat never comes in time: a worker's view goes stale 1.5 s after its last revocation push.
  broker = await startBroker({
    team: testTeam,
    workerEntry: testWorkerEntry,
    config: { revocationSyncMs: 600_000, revocationStaleMs: 1500 }
  })
  bearer = `Bearer ${await broker.token("acme")}`
})
afterAll(() => broker.stop())

describe("OR-04 stale revocation view", () => {
  it("OR-04 a worker whose revocation view is stale refuses the call with E_REVOCATION_UNAVAILABLE; the tool runs 0 times", async () => {
    const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
    // First task boots the worker; let its view age past the bound.
    await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      bearer
    )
    await new Promise((r) => setTimeout(r, 2500))
    const before = broker.effects("acme")
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "ok" }, wait: true },
      bearer
    )
    expect(res.body.status).toBe("failed")
    expect((res.body.error as { code: string }).code).toBe("E_REVOCATION_UNAVAILABLE")
    expect(broker.effects("acme")).toEqual(before)
    const records = await broker.runtime.runPromise(
      Effect.flatMap(AuditLog, (a) => a.list({ tenant: "acme", limit: 1000 }))
    )
    expect(records.some((r) => r.decision === "deny" && r.errorCode === "E_REVOCATION_UNAVAILABLE")).toBe(
      true
    )
  })

  it("OR-04 a fresh revocation push brings the view back: the next call is allowed", async () => {
    const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
    // A task's teardown pushes its revocations to the live worker at once, which refreshes its view.
    await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      bearer
    )
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      bearer
    )
    expect(res.body.status).toBe("succeeded")
  })
})
