/**
 * Credentials die with their task, whatever the exit: success, failure, timeout, interruption by session end.
 * Background work cannot act after its task. Real broker, real worker threads, real SQLite.
 */
import { Credentials } from "@cordon/store/Credentials"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../support/broker.js"

let broker: TestBroker
let bearer: string

const live = () =>
  broker.runtime.runPromise(
    Effect.flatMap(Credentials, (c) => c.liveCount(Math.floor(Date.now() / 1000), "acme"))
  )

const openSession = async () => String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)

const submit = (session: string, input: unknown, wait = true) =>
  broker.http("POST", "/v1/tasks", { session, agent: "lead", intent: "probe.run", input, wait }, bearer)

const trace = async (taskId: string) => {
  const res = await broker.http("GET", `/v1/tasks/${taskId}/trace`, undefined, bearer)
  return res.body.events as Array<{
    kind: string
    name: string
    status: string
    attrs: Record<string, unknown>
  }>
}

const effects = () => broker.effects("acme")

/** Task tokens (root, handoffs) and per-call tool tokens (on tool spans) minted for the task. */
const minted = (events: Awaited<ReturnType<typeof trace>>) =>
  events
    .filter((e) => (e.kind === "handoff" || e.kind === "tool") && e.attrs.jti !== undefined)
    .map((e) => String(e.attrs.jti))
const revoked = (events: Awaited<ReturnType<typeof trace>>) =>
  events.filter((e) => e.kind === "revocation").map((e) => e.name.replace("revoke ", ""))

beforeAll(async () => {
  broker = await startBroker({
    team: testTeam,
    workerEntry: testWorkerEntry,
    config: { taskTimeoutMs: 1500 }
  })
  bearer = `Bearer ${await broker.token("acme")}`
})

afterAll(() => broker.stop())

describe("teardown", () => {
  it("LS-01 on success every credential minted for the task (root, handoff, tool call) is revoked", async () => {
    const session = await openSession()
    const res = await submit(session, { mode: "ok" })
    expect(res.body.status).toBe("succeeded")
    const events = await trace(String(res.body.id))
    expect(minted(events)).toHaveLength(3)
    expect(revoked(events).sort()).toEqual(minted(events).sort())
    expect(await live()).toBe(0)
  })

  it("OR-01 on failure of a delegated agent the task fails with its code and nothing stays live", async () => {
    const session = await openSession()
    const res = await submit(session, { mode: "fail" })
    expect(res.body.status).toBe("failed")
    expect((res.body.error as { code: string }).code).toBe("E_AGENT_FAILED")
    const events = await trace(String(res.body.id))
    expect(revoked(events).sort()).toEqual(minted(events).sort())
    expect(await live()).toBe(0)
  })

  it("RP-02 on timeout the task fails with E_TASK_TIMEOUT and its credentials are revoked", async () => {
    const session = await openSession()
    const res = await submit(session, { mode: "stall", ms: 30_000 })
    expect(res.body.status).toBe("failed")
    expect((res.body.error as { code: string }).code).toBe("E_TASK_TIMEOUT")
    const events = await trace(String(res.body.id))
    expect(minted(events).length).toBeGreaterThan(0)
    expect(revoked(events).sort()).toEqual(minted(events).sort())
    expect(await live()).toBe(0)
  })

  it("OR-02 ending the session cancels its running task and revokes its credentials", async () => {
    const session = await openSession()
    const accepted = await submit(session, { mode: "stall", ms: 1000 }, false)
    expect(accepted.status).toBe(202)
    const id = String(accepted.body.id)
    await new Promise((r) => setTimeout(r, 300))
    const ended = await broker.http("DELETE", `/v1/sessions/${session}`, undefined, bearer)
    expect(ended.body.status).toBe("ended")
    const task = await broker.http("GET", `/v1/tasks/${id}`, undefined, bearer)
    expect(task.body.status).toBe("cancelled")
    expect(await live()).toBe(0)
    expect(fs.existsSync(path.join(broker.dataDir, "tenants", "acme", "sessions", `${session}.sqlite`))).toBe(
      false
    )
    const late = await submit(session, { mode: "ok" })
    expect(late.status).toBe(409)
    expect(late.body.code).toBe("E_SESSION_CLOSED")
  })

  it("a task cancelled during a tool call leaves no span of its trace running", async () => {
    const session = await openSession()
    const accepted = await submit(session, { mode: "slow-tool", ms: 5000 }, false)
    const id = String(accepted.body.id)
    for (let i = 0; i < 100; i++) {
      if ((await trace(id)).some((e) => e.kind === "tool" && e.status === "running")) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const cancelled = await broker.http("POST", `/v1/tasks/${id}/cancel`, undefined, bearer)
    expect(cancelled.status).toBeLessThan(300)
    expect((await broker.settle(id, bearer)).body.status).toBe("cancelled")
    const events = await trace(id)
    expect(events.filter((e) => e.status === "running")).toEqual([])
    const tool = events.find((e) => e.kind === "tool")
    // The broker stopped waiting for the handler; it says so rather than claiming the call did not happen.
    expect(tool).toMatchObject({ status: "error", attrs: { code: "E_CANCELLED", outcome: "unknown" } })
    expect(await live()).toBe(0)
  })

  it("BJ-01 a background fiber left behind by an agent cannot act after its task ended", async () => {
    const session = await openSession()
    const before = effects().length
    const res = await submit(session, { mode: "background", ms: 300 })
    expect(res.body.status).toBe("succeeded")
    await new Promise((r) => setTimeout(r, 900))
    expect(effects().length).toBe(before)
    expect(await live()).toBe(0)
  })

  it("a crashing worker fails only its own task with a typed error, leaves no live credential, and is replaced", async () => {
    const session = await openSession()
    const crashed = await submit(session, { mode: "crash" })
    expect(crashed.body.status).toBe("failed")
    expect((crashed.body.error as { code: string }).code).toBe("E_WORKER_CRASHED")
    expect(await live()).toBe(0)
    const next = await submit(session, { mode: "probe" })
    expect(next.body.status).toBe("succeeded")
  })
})
