/**
 * The HTTP API against a real broker: authentication, tenant binding, validation of bad input with stable
 * codes and 4xx statuses, and nothing half-written when a request is refused.
 */
import { Tasks } from "@cordon/store/Tasks"
import { Effect } from "effect"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../support/broker.js"

let broker: TestBroker
let acme: string
let globex: string
let session: string

const ledger = () => broker.runtime.runPromise(Effect.flatMap(Tasks, (t) => t.ledger()))

beforeAll(async () => {
  broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  acme = `Bearer ${await broker.token("acme")}`
  globex = `Bearer ${await broker.token("globex")}`
  const created = await broker.http("POST", "/v1/sessions", {}, acme)
  expect(created.status).toBe(201)
  session = String(created.body.id)
})

afterAll(() => broker.stop())

describe("authentication", () => {
  it("refuses a request without a bearer token (401 E_UNAUTHENTICATED)", async () => {
    const res = await broker.http("POST", "/v1/sessions", {})
    expect(res.status).toBe(401)
    expect(res.body.code).toBe("E_UNAUTHENTICATED")
  })

  it("refuses a non-Bearer scheme and an empty token", async () => {
    const token = acme.slice("Bearer ".length)
    for (const header of [`Basic ${token}`, "Bearer ", token]) {
      const res = await broker.http("POST", "/v1/sessions", {}, header)
      expect(res.status, header.slice(0, 12)).toBe(401)
    }
  })

  it("refuses a caller token signed by any other key, even with a valid shape", async () => {
    const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" })
    const forged = await new jose.SignJWT({ tnt: "acme" })
      .setProtectedHeader({ alg: "EdDSA", typ: "cordon-caller+jwt" })
      .setIssuer("https://cordon.local/dev-issuer")
      .setAudience("cordon-api")
      .setSubject("mallory")
      .setExpirationTime("5m")
      .sign(privateKey)
    const res = await broker.http("POST", "/v1/sessions", {}, `Bearer ${forged}`)
    expect(res.status).toBe(401)
    expect(res.body.code).toBe("E_UNAUTHENTICATED")
  })

  it("refuses an unsigned (alg none) caller token", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "cordon-caller+jwt" })).toString(
      "base64url"
    )
    const payload = Buffer.from(
      JSON.stringify({
        tnt: "acme",
        sub: "x",
        iss: "https://cordon.local/dev-issuer",
        aud: "cordon-api",
        exp: 4e9
      })
    ).toString("base64url")
    const res = await broker.http("POST", "/v1/sessions", {}, `Bearer ${header}.${payload}.`)
    expect(res.status).toBe(401)
  })
})

describe("bad input gets a typed 4xx and writes nothing", () => {
  it("unknown agent → 400 E_UNKNOWN_AGENT", async () => {
    const before = await ledger()
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "ghost", intent: "probe.run", input: {} },
      acme
    )
    expect(res.status).toBe(400)
    expect(res.body.code).toBe("E_UNKNOWN_AGENT")
    expect(await ledger()).toEqual(before)
  })

  it("unknown intent → 400 E_UNKNOWN_INTENT", async () => {
    const before = await ledger()
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "steal.all", input: {} },
      acme
    )
    expect(res.status).toBe(400)
    expect(res.body.code).toBe("E_UNKNOWN_INTENT")
    expect(await ledger()).toEqual(before)
  })

  it("malformed JSON and missing fields → 400", async () => {
    const before = await ledger()
    const garbled = await broker.http("POST", "/v1/tasks", undefined, acme, "{not json")
    expect(garbled.status).toBe(400)
    expect(garbled.body.code).toBe("E_MALFORMED_REQUEST")
    const missing = await broker.http("POST", "/v1/tasks", { session, agent: "lead" }, acme)
    expect(missing.status).toBe(400)
    expect(missing.body.code).toBe("E_BAD_REQUEST")
    const wrongType = await broker.http(
      "POST",
      "/v1/tasks",
      { session: 7, agent: "lead", intent: "probe.run", input: {} },
      acme
    )
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.code).toBe("E_BAD_REQUEST")
    const traversal = await broker.http(
      "POST",
      "/v1/tasks",
      { session: "../x", agent: "lead", intent: "probe.run", input: {} },
      acme
    )
    expect(traversal.status).toBe(400)
    expect(await ledger()).toEqual(before)
  })

  it("a revocation naming nothing (empty or blank ids) → 400 E_BAD_REQUEST, nothing revoked", async () => {
    for (const body of [{}, { jti: "" }, { task: "  " }, { jti: "", task: "" }]) {
      const res = await broker.http("POST", "/v1/revocations", body, acme)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe("E_BAD_REQUEST")
    }
  })

  it("a session of another tenant is not found (404), and no task is written", async () => {
    const before = await ledger()
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" } },
      globex
    )
    expect(res.status).toBe(404)
    expect(res.body.code).toBe("E_NOT_FOUND")
    expect(await ledger()).toEqual(before)
  })
})

describe("tenant binding", () => {
  it("DS-05 a task and its trace are invisible to another tenant (404, same as a missing id)", async () => {
    const submitted = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      acme
    )
    expect(submitted.status).toBe(202)
    expect(submitted.body.status).toBe("succeeded")
    const id = String(submitted.body.id)
    for (const route of [`/v1/tasks/${id}`, `/v1/tasks/${id}/trace`]) {
      const foreign = await broker.http("GET", route, undefined, globex)
      const missing = await broker.http("GET", route.replace(id, "task-does-not-exist"), undefined, globex)
      expect(foreign.status).toBe(404)
      expect(foreign.body).toEqual({ ...missing.body, id })
      expect(JSON.stringify(foreign.body)).not.toContain("acme")
    }
    const own = await broker.http("GET", `/v1/tasks/${id}/trace`, undefined, acme)
    expect(own.status).toBe(200)
  })

  it("the worker runs with an empty environment and sees only the token's tenant and session", async () => {
    const res = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      acme
    )
    expect(res.body.output).toEqual({ envKeys: 0, tenant: "acme", session })
  })

  it("sessions bind tenant AND user: another user of the same tenant cannot read, use or end them", async () => {
    const bob = `Bearer ${await broker.token("acme", "bob")}`
    const submitted = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: { mode: "probe" }, wait: true },
      acme
    )
    const id = String(submitted.body.id)
    for (const [method, route] of [
      ["GET", `/v1/sessions/${session}`],
      ["GET", `/v1/tasks/${id}`],
      ["GET", `/v1/tasks/${id}/trace`],
      ["DELETE", `/v1/sessions/${session}`]
    ] as const) {
      const res = await broker.http(method, route, undefined, bob)
      expect(res.status, `${method} ${route}`).toBe(404)
    }
    const before = await ledger()
    const use = await broker.http(
      "POST",
      "/v1/tasks",
      { session, agent: "lead", intent: "probe.run", input: {} },
      bob
    )
    expect(use.status).toBe(404)
    expect(await ledger()).toEqual(before)
    expect((await broker.http("GET", `/v1/sessions/${session}`, undefined, acme)).body.status).toBe("open")
  })

  it("session and task ids carry 128 random bits", async () => {
    const created = await broker.http("POST", "/v1/sessions", {}, acme)
    expect(String(created.body.id)).toMatch(/^s-[0-9a-f]{32}$/)
  })

  it("ending another tenant's session is not found and leaves it open", async () => {
    const res = await broker.http("DELETE", `/v1/sessions/${session}`, undefined, globex)
    expect(res.status).toBe(404)
    const own = await broker.http("GET", `/v1/sessions/${session}`, undefined, acme)
    expect(own.body.status).toBe("open")
  })

  it("an unknown route is a typed 404", async () => {
    const res = await broker.http("GET", "/v1/nothing-here", undefined, acme)
    expect(res.status).toBe(404)
    expect(res.body.code).toBe("E_NOT_FOUND")
  })

  it("serves OpenAPI docs at /docs", async () => {
    const res = await fetch(`${broker.baseUrl}/docs`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain("swagger")
  })
})
