/**
 * HTTP API fuzzing against a real server (`test/support/broker.ts`: real broker, SQLite, HTTP on loopback).
 * Every request is invalid by construction: no usable credentials (missing, malformed, wrong scheme,
 * damaged or forged caller tokens) on any path but the public ones, or a valid caller with a body or an id
 * that cannot be right (wrong types, malformed JSON, unknown ids). A crash is a 5xx or a dropped
 * connection; an acceptance is any 2xx.
 */
import fc from "fast-check"
import { testTeam } from "../fixtures/team.js"
import { startBroker, testWorkerEntry } from "../support/broker.js"
import { countVerdict, type FuzzTally, newTally, type Verdict } from "./tally.js"

interface Req {
  readonly method: string
  readonly path: string
  readonly authorization?: string
  readonly body?: string
}

const PUBLIC = /^\/(health|docs)(\/|$|\?)/
const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")

const idLike = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("..", "../..", "%00", "%2e%2e%2f", "' OR 1=1 --", "a".repeat(2000), "CON", "null")
)

const paths = fc.oneof(
  idLike.map((id) => `/v1/sessions/${encodeURIComponent(id)}`),
  idLike.map((id) => `/v1/tasks/${encodeURIComponent(id)}`),
  idLike.map((id) => `/v1/tasks/${encodeURIComponent(id)}/trace`),
  fc.constantFrom(
    "/v1/sessions",
    "/v1/tasks",
    "/v1/jwks",
    "/v1/revocations",
    "/v1/",
    "/v1",
    "/",
    "//v1/jwks"
  ),
  fc.webPath().filter((p) => p.length > 0)
)

const bodies = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("{", '{"session":', "[".repeat(5000), '{"__proto__":{"admin":true}}', "\u0000", "")
)

/** Damaged or forged versions of a genuine caller token that are not the same token in another spelling. */
const badTokens = (token: string) => {
  const [h = "", p = "", s = ""] = token.split(".")
  const same = (t: string) => {
    const parts = t.split(".")
    return (
      parts.length === 3 &&
      parts.every((x) => /^[A-Za-z0-9_-]*$/.test(x)) &&
      parts.every((x, i) => Buffer.from(x, "base64url").equals(Buffer.from([h, p, s][i] ?? "", "base64url")))
    )
  }
  return fc
    .oneof(
      fc
        .array(fc.tuple(fc.nat({ max: token.length - 1 }), fc.integer({ min: 0, max: 6 })), {
          minLength: 1,
          maxLength: 3
        })
        .map((flips) => {
          const chars = [...token]
          for (const [i, bit] of flips)
            chars[i] = String.fromCharCode((chars[i]?.charCodeAt(0) ?? 65) ^ (1 << bit))
          return chars.join("")
        }),
      fc.nat({ max: token.length - 1 }).map((n) => token.slice(0, n)),
      fc.constantFrom(
        `${enc({ alg: "none", typ: "JWT" })}.${p}.`,
        `${enc({ alg: "HS256", typ: "JWT" })}.${p}.${s}`,
        `${h}.${enc({ ...JSON.parse(Buffer.from(p, "base64url").toString()), tnt: "tenant-b", sub: "x" })}.${s}`,
        `${token}.${s}`,
        `${h}.${p}`
      )
    )
    .filter((t) => t !== token && !same(t) && /^[\x21-\x7e]*$/.test(t))
}

const authorizations = (token: string) =>
  fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      "Bearer  ",
      "bearer ",
      "Basic dXNlcjpwYXNz",
      "Token x",
      "Bearer null"
    ),
    fc.constant(`bearer ${token}`),
    fc.constant(`Bearer  ${token}`),
    fc
      .string({ maxLength: 80 })
      .filter((s) => /^[\x20-\x7e]*$/.test(s))
      .map((s) => `Bearer ${s}`),
    badTokens(token).map((t) => `Bearer ${t}`)
  )

const unauthenticated = (token: string): fc.Arbitrary<Req> =>
  fc
    .record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
      path: paths,
      authorization: authorizations(token),
      body: fc.option(bodies, { nil: undefined })
    })
    .filter((r) => !PUBLIC.test(r.path))
    .map(({ authorization, body, ...r }) => ({
      ...r,
      ...(authorization !== undefined ? { authorization } : {}),
      ...(body !== undefined && r.method !== "GET" ? { body } : {})
    }))

const wrongTypes = fc.constantFrom<unknown>(null, 0, true, [], {}, "", ["x"])

/** A valid caller with an impossible request: bad task bodies, bad revocation bodies, unknown ids. */
const authenticated = (bearer: string): fc.Arbitrary<Req> =>
  fc.oneof(
    fc
      .oneof(
        bodies,
        fc
          .record({ session: fc.oneof(fc.uuid(), wrongTypes), agent: fc.oneof(fc.string(), wrongTypes) })
          .map((o) => JSON.stringify({ ...o, intent: "probe.run", input: {} })),
        fc
          .tuple(fc.constantFrom("session", "agent", "intent", "input"), wrongTypes)
          .map(([k, v]) =>
            JSON.stringify({ session: "s", agent: "lead", intent: "probe.run", input: {}, [k]: v })
          )
      )
      .map((body) => ({ method: "POST", path: "/v1/tasks", authorization: bearer, body })),
    fc
      .oneof(
        wrongTypes.map((v) => JSON.stringify(v)),
        // Non-string ids (an empty string is a well-typed id that matches nothing: `{ revoked: 0 }`).
        fc
          .tuple(
            fc.constantFrom("jti", "task", "session", "agent"),
            wrongTypes.filter((v) => v !== "")
          )
          .map(([k, v]) => JSON.stringify({ [k]: v }))
      )
      .map((body) => ({ method: "POST", path: "/v1/revocations", authorization: bearer, body })),
    fc
      .tuple(fc.constantFrom("GET", "DELETE"), fc.uuid())
      .map(([method, id]) => ({ method, path: `/v1/sessions/${id}`, authorization: bearer })),
    fc
      .tuple(fc.uuid(), fc.constantFrom("", "/trace"))
      .map(([id, tail]) => ({ method: "GET", path: `/v1/tasks/${id}${tail}`, authorization: bearer }))
  )

/** Starts a real server, sends `runs` invalid requests (4 at a time), and checks it still answers. */
export const fuzzHttp = async (runs: number, seed: number): Promise<FuzzTally> => {
  const broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  const tally = newTally("http api")
  try {
    const token = await broker.token("tenant-a")
    const send = async (req: Req): Promise<Verdict> => {
      try {
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (req.authorization !== undefined) headers.authorization = req.authorization
        const res = await fetch(`${broker.baseUrl}${req.path}`, {
          method: req.method,
          headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: AbortSignal.timeout(10_000)
        })
        await res.arrayBuffer()
        return res.status >= 500 ? "crash" : res.status < 300 ? "accepted" : "rejected"
      } catch {
        return "crash"
      }
    }
    const inputs = [
      ...fc.sample(unauthenticated(token), { numRuns: Math.ceil(runs * 0.6), seed }),
      ...fc.sample(authenticated(`Bearer ${token}`), { numRuns: Math.ceil(runs * 0.4), seed: seed + 1 })
    ]
    for (let i = 0; i < inputs.length; i += 4) {
      const batch = inputs.slice(i, i + 4)
      const verdicts = await Promise.all(batch.map(send))
      verdicts.forEach((v, j) => {
        tally.inputs++
        countVerdict(tally, v, batch[j])
      })
    }
    const health = await fetch(`${broker.baseUrl}/health`)
    if (health.status !== 200) countVerdict(tally, "crash", "GET /health after fuzzing")
  } finally {
    await broker.stop()
  }
  return tally
}
