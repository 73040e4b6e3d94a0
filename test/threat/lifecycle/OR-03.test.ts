/**
 * OR-03: suspending a tenant mid-run is a kill switch: its running and queued tasks are cancelled, its
 * pending jobs cancelled, every credential revoked, its worker stopped, its session caches shredded, one
 * summary `tenant.suspend` record written; its next call gets `E_TENANT_SUSPENDED`. Another tenant is
 * untouched. Suspending twice is harmless.
 */
import { existsSync, readdirSync } from "node:fs"
import * as path from "node:path"
import { Credentials } from "@cordon/store/Credentials"
import { TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows, jobRows } from "./store.js"
import { balances, startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker({ tenantConcurrency: 2 })
})

afterAll(() => t.broker.stop())

const liveCredentials = (tenant: string) =>
  t.broker.runtime.runPromise(
    Effect.flatMap(Credentials, (c) => c.liveCount(Math.floor(Date.now() / 1000), tenant))
  )
const liveWorkers = () => t.broker.runtime.runPromise(Effect.flatMap(TenantWorkerPool, (p) => p.live))

describe("OR-03 tenant kill switch", () => {
  it("OR-03 suspend mid-run: tasks and jobs cancelled, credentials revoked, worker gone, caches shredded", async () => {
    const victim = await t.bearerOf("doomed")
    const bystander = await t.bearerOf("bystander")
    const session = await t.openSession(victim)
    const other = await t.openSession(bystander)
    const scheduled = await t.submit(victim, session, {
      mode: "schedule",
      label: "or03-job",
      delayMs: 60_000
    })
    expect((await t.broker.settle(String(scheduled.body.id), victim)).body.status).toBe("succeeded")
    const running = [
      await t.submit(victim, session, { mode: "sleep", ms: 30_000, label: "or03-a" }),
      await t.submit(victim, session, { mode: "sleep", ms: 30_000, label: "or03-b" }),
      await t.submit(victim, session, { mode: "sleep", ms: 30_000, label: "or03-c" })
    ].map((r) => String(r.body.id))
    const slow = String(
      (await t.submit(bystander, other, { mode: "sleep", ms: 1500, label: "or03-other" })).body.id
    )
    expect(await t.until(async () => (await liveCredentials("doomed")) >= 2)).toBe(true)
    expect(existsSync(path.join(t.broker.dataDir, "tenants", "doomed", "sessions"))).toBe(true)

    const res = await t.broker.http("POST", "/v1/admin/tenants/doomed/suspend", {}, t.operator())
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ tenant: "doomed", cancelledJobs: 1, endedSessions: 1 })
    expect(Number(res.body.cancelledTasks)).toBe(3)

    for (const id of running) {
      const task = (await t.broker.settle(id, victim)).body
      expect(task.status).toBe("cancelled")
      expect((task.error as { code: string }).code).toBe("E_TENANT_SUSPENDED")
    }
    expect(await liveCredentials("doomed")).toBe(0)
    expect(await liveWorkers()).not.toContain("doomed")
    const sessionsDir = path.join(t.broker.dataDir, "tenants", "doomed", "sessions")
    expect(existsSync(sessionsDir) ? readdirSync(sessionsDir) : []).toEqual([])
    expect(jobRows(t.broker.dataDir, "doomed").map((j) => j.status)).toEqual(["cancelled"])
    expect(auditRows(t.broker.dataDir, "doomed", "tenant.suspend")).toHaveLength(1)
    expect(t.broker.effects("doomed").filter((l) => l.startsWith("or03-"))).toEqual([])

    // Next call → E_TENANT_SUSPENDED (new session and new task alike).
    const again = await t.broker.http("POST", "/v1/sessions", {}, victim)
    expect(again.status).toBe(403)
    expect(again.body.code).toBe("E_TENANT_SUSPENDED")
    const submit = await t.submit(victim, session, { mode: "ok" })
    expect(submit.body.code).toBe("E_TENANT_SUSPENDED")

    // The bystander tenant finishes normally.
    expect((await t.broker.settle(slow, bystander)).body.status).toBe("succeeded")
    expect(t.broker.effects("bystander")).toContain("or03-other")
    expect(balances(await t.ledger())).toBe(true)
  }, 60_000)

  it("OR-03 suspension is idempotent and a resumed tenant can work again", async () => {
    const second = await t.broker.http("POST", "/v1/admin/tenants/doomed/suspend", {}, t.operator())
    expect(second.status).toBe(200)
    expect(second.body).toMatchObject({ cancelledTasks: 0, cancelledJobs: 0, revokedCredentials: 0 })
    const unauthorised = await t.broker.http(
      "POST",
      "/v1/admin/tenants/doomed/resume",
      {},
      await t.bearerOf("doomed")
    )
    expect(unauthorised.status).toBe(401)
    expect((await t.broker.http("POST", "/v1/admin/tenants/doomed/resume", {}, t.operator())).status).toBe(
      200
    )
    const bearer = await t.bearerOf("doomed")
    const session = await t.openSession(bearer)
    const id = String((await t.submit(bearer, session, { mode: "ok", label: "or03-back" })).body.id)
    expect((await t.broker.settle(id, bearer)).body.status).toBe("succeeded")
  }, 30_000)
})
