/**
 * BJ-01: a background job never runs after its session has ended. Ending the session cancels the pending
 * job (audited `job.cancelled`); a task submitted into the closed session is refused; the side effect the
 * job would have run never happens.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows, jobRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>
let bearer: string

beforeAll(async () => {
  t = await startLifecycleBroker()
  bearer = await t.bearerOf("acme")
})

afterAll(() => t.broker.stop())

describe("BJ-01 jobs die with their session", () => {
  it("BJ-01 a job scheduled inside the session runs as a new task of that session", async () => {
    const session = await t.openSession(bearer)
    const res = await t.submit(bearer, session, { mode: "schedule", label: "bj01-runs", delayMs: 100 })
    expect((await t.broker.settle(String(res.body.id), bearer)).body.status).toBe("succeeded")
    expect(await t.until(() => t.broker.effects("acme").includes("bj01-runs"))).toBe(true)
    expect(jobRows(t.broker.dataDir, "acme").find((j) => j.input.includes("bj01-runs"))?.status).toBe("fired")
  })

  it("BJ-01 closing the session with a job pending cancels it: job.cancelled audited, tool mock 0 calls", async () => {
    const session = await t.openSession(bearer)
    const res = await t.submit(bearer, session, { mode: "schedule", label: "bj01-late", delayMs: 1500 })
    expect((await t.broker.settle(String(res.body.id), bearer)).body.status).toBe("succeeded")
    const job = jobRows(t.broker.dataDir, "acme").find((j) => j.input.includes("bj01-late"))
    expect(job?.status).toBe("pending")
    expect((await t.broker.http("DELETE", `/v1/sessions/${session}`, undefined, bearer)).status).toBe(200)
    expect(jobRows(t.broker.dataDir, "acme").find((j) => j.id === job?.id)?.status).toBe("cancelled")
    const cancelled = auditRows(t.broker.dataDir, "acme", "job.cancelled").filter((r) =>
      r.resource.endsWith(job?.id ?? "?")
    )
    expect(cancelled).toHaveLength(1)
    expect(cancelled[0]?.errorCode).toBe("E_SESSION_CLOSED")
    // Past the job's run time: it never fired and the side effect never ran.
    await new Promise((r) => setTimeout(r, 2000))
    expect(t.broker.effects("acme")).not.toContain("bj01-late")
    expect(jobRows(t.broker.dataDir, "acme").find((j) => j.id === job?.id)?.status).toBe("cancelled")
  })

  it("BJ-01 a forced attempt to run work in the closed session fails with E_SESSION_CLOSED", async () => {
    const session = await t.openSession(bearer)
    await t.broker.http("DELETE", `/v1/sessions/${session}`, undefined, bearer)
    const res = await t.submit(bearer, session, { mode: "ok", label: "bj01-forced" })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe("E_SESSION_CLOSED")
    expect(t.broker.effects("acme")).not.toContain("bj01-forced")
  })
})
