/**
 * LS-03 — per-tenant keys with rotation and retirement, end to end: a rotation reaches the tenant's worker
 * (new tokens verify there), and retiring a compromised key kills the tokens signed with it at once —
 * a task in flight under that key can no longer act.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { KeyManager } from "@cordon/runtime/KeyManager"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"

let broker: TestBroker
let bearer: string
let session: string

beforeAll(async () => {
  broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  bearer = `Bearer ${await broker.token("acme")}`
  session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
})
afterAll(() => broker.stop())

const submit = (input: unknown, wait = true) =>
  broker.http("POST", "/v1/tasks", { session, agent: "lead", intent: "probe.run", input, wait }, bearer)
const keys = () => broker.runtime.runPromise(Effect.flatMap(KeyManager, (k) => k.keys("acme")))
const effects = () => broker.effects("acme").length

describe("LS-03 key rotation and retirement", () => {
  it("LS-03 after a rotation the worker verifies tokens under the new key, and the JWKS publishes both during the overlap", async () => {
    expect((await submit({ mode: "probe" })).body.status).toBe("succeeded")
    const newKid = await broker.runtime.runPromise(Effect.flatMap(KeyManager, (k) => k.rotate("acme")))
    expect((await submit({ mode: "ok" })).body.status).toBe("succeeded")
    const jwks = await broker.http("GET", "/v1/jwks", undefined, bearer)
    const kids = (jwks.body.keys as Array<{ kid: string; d?: string }>).map((k) => k.kid)
    expect(kids).toContain(newKid)
    expect(kids.length).toBe(2)
    expect((jwks.body.keys as Array<{ d?: string }>).every((k) => k.d === undefined)).toBe(true)
  })

  it("LS-03 retiring a compromised key fails every token under it at once: the task in flight cannot act", async () => {
    const active = (await keys()).find((k) => k.retiredAt === null)!
    const before = effects()
    const accepted = await submit({ mode: "stall", ms: 700 }, false)
    await new Promise((r) => setTimeout(r, 300))
    await broker.runtime.runPromise(Effect.flatMap(KeyManager, (k) => k.retire("acme", active.kid, true)))
    const task = await broker.settle(String(accepted.body.id), bearer)
    expect(task.body.status).toBe("failed")
    expect((task.body.error as { code: string }).code).toBe("E_TOKEN_INVALID")
    expect(effects()).toBe(before)
    const jwks = await broker.http("GET", "/v1/jwks", undefined, bearer)
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).not.toContain(active.kid)
    // A fresh key signs from now on, and the worker trusts it.
    expect((await submit({ mode: "ok" })).body.status).toBe("succeeded")
  })

  it("LS-03 signing keys are stored wrapped: no private key material in the control-plane database", async () => {
    const db = fs.readFileSync(path.join(broker.dataDir, "control-plane.sqlite"), "latin1")
    const wal = fs.existsSync(path.join(broker.dataDir, "control-plane.sqlite-wal"))
      ? fs.readFileSync(path.join(broker.dataDir, "control-plane.sqlite-wal"), "latin1")
      : ""
    expect(db + wal).not.toMatch(/PRIVATE KEY|"d":"/)
    const master = fs.statSync(path.join(broker.dataDir, "master.key"))
    expect(master.mode & 0o077).toBe(0)
  })
})
