/**
 * BJ-02: a job cannot extend its life by rescheduling itself. The deadline is fixed when the first job of
 * the line is created (min(session end, first scheduling + horizon)) and inherited; a reschedule past it is refused with
 * `E_JOB_DEADLINE_EXCEEDED` (audited), and a job found past it when due expires with the same code (audited), so
 * the number of runs — and of tokens minted for them — is bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows, jobRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>
let bearer: string

beforeAll(async () => {
  t = await startLifecycleBroker({ jobHorizonMs: 2000 })
  bearer = await t.bearerOf("acme")
})

afterAll(() => t.broker.stop())

describe("BJ-02 reschedules never pass the deadline", () => {
  it("BJ-02 a self-rescheduling job stops at the line's deadline: E_JOB_DEADLINE_EXCEEDED, bounded runs", async () => {
    // A 2 s job horizon; the job reschedules itself every 400 ms.
    const session = await t.openSession(bearer)
    const res = await t.submit(bearer, session, { mode: "reschedule", label: "bj02", delayMs: 400 })
    expect((await t.broker.settle(String(res.body.id), bearer)).body.status).toBe("succeeded")
    // The line ends at its deadline in one of two audited ways, depending on where the last run lands:
    // its reschedule past the deadline is refused (`ScheduleJob`), or a job due within a poll of the
    // deadline is found past it when it would fire (`job.expired`). Either way, exactly once.
    const denied = () =>
      auditRows(t.broker.dataDir, "acme").filter(
        (r) =>
          (r.action === "ScheduleJob" || r.action === "job.expired") &&
          r.errorCode === "E_JOB_DEADLINE_EXCEEDED"
      )
    expect(await t.until(() => denied().length === 1, 15_000)).toBe(true)
    const jobs = jobRows(t.broker.dataDir, "acme")
    // Every job of the line shares the first job's deadline, which is no later than the session's end.
    const deadlines = new Set(jobs.map((j) => j.deadline))
    expect(deadlines.size).toBe(1)
    expect(jobs.every((j) => j.run_at <= j.deadline)).toBe(true)
    const runs = t.broker.effects("acme").filter((l) => l === "bj02").length
    expect(runs).toBeGreaterThanOrEqual(2)
    expect(runs).toBeLessThanOrEqual(6)
    // Nothing runs after the deadline.
    const after = t.broker.effects("acme").length
    await new Promise((r) => setTimeout(r, 800))
    expect(t.broker.effects("acme").length).toBe(after)
  })
})
