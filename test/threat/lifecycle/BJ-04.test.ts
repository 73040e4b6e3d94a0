/**
 * BJ-04: a job carries no credential. The payload is scanned when the job is scheduled and a token-shaped
 * value is refused (`E_SECRET_IN_PAYLOAD`, audited); a stored job holds no JWT; its task is minted a fresh
 * token when it runs, so revoking the session's credentials does not leave a usable one in the queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows, jobRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\./

let t: Awaited<ReturnType<typeof startLifecycleBroker>>
let bearer: string

beforeAll(async () => {
  t = await startLifecycleBroker()
  bearer = await t.bearerOf("acme")
})

// The test submits a token inside a task's input on purpose (the caller's own data, kept in the task row),
// so the data-directory scan would flag it: run the audit and ledger oracles only.
afterAll(() => t.broker.stop({ oracles: "audit-and-ledger" }))

describe("BJ-04 no raw credential in a job", () => {
  it("BJ-04 a job payload carrying a token is refused with E_SECRET_IN_PAYLOAD and nothing is queued", async () => {
    const session = await t.openSession(bearer)
    const stolen = (await t.broker.token("acme")).toString()
    expect(stolen).toMatch(JWT)
    const res = await t.submit(bearer, session, { mode: "schedule-secret", payload: `use ${stolen}` })
    const task = (await t.broker.settle(String(res.body.id), bearer)).body
    expect(task.status).toBe("failed")
    expect((task.error as { code: string }).code).toBe("E_SECRET_IN_PAYLOAD")
    const denies = auditRows(t.broker.dataDir, "acme", "ScheduleJob").filter(
      (r) => r.errorCode === "E_SECRET_IN_PAYLOAD"
    )
    expect(denies).toHaveLength(1)
    expect(JSON.stringify(denies)).not.toMatch(JWT)
    expect(jobRows(t.broker.dataDir, "acme")).toHaveLength(0)
  })

  it("BJ-04 a stored job holds no JWT; after revoking everything its task runs on a freshly minted token", async () => {
    const session = await t.openSession(bearer)
    const res = await t.submit(bearer, session, { mode: "schedule", label: "bj04", delayMs: 800 })
    expect((await t.broker.settle(String(res.body.id), bearer)).body.status).toBe("succeeded")
    const jobs = jobRows(t.broker.dataDir, "acme")
    expect(jobs).toHaveLength(1)
    expect(JSON.stringify(jobs)).not.toMatch(JWT)
    expect((await t.broker.http("POST", "/v1/revocations", { all: true }, bearer)).status).toBe(200)
    expect(await t.until(() => t.broker.effects("acme").includes("bj04"))).toBe(true)
    expect(jobRows(t.broker.dataDir, "acme")[0]?.status).toBe("fired")
  })
})
