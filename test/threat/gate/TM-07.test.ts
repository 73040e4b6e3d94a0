/**
 * TM-07 — broad scopes widen the blast radius of any leak. Every tool call runs under its own per-call
 * token whose scope set is exactly the called tool's requirement (however broad the task's token), bound
 * to the task and revoked with it; wildcard scopes and whole-catalogue requests are refused at mint and
 * exchange with `E_TOKEN_POLICY`, and tools cannot even declare a wildcard.
 */
import { canonicalJson, requestBinding } from "@cordon/identity/CanonicalJson"
import { TokenService } from "@cordon/identity/TokenService"
import * as Tool from "@cordon/sdk/Tool"
import { Credentials } from "@cordon/store/Credentials"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { gateProbe, gateTeam, seedDoc } from "../../fixtures/gateTeam.js"
import { A, type Gate, startGate } from "./support.js"

let gate: Gate
beforeAll(async () => {
  gate = await startGate()
  seedDoc(gate.broker.dataDir, { id: "A-1", tenant: A, body: "our notes" })
})
afterAll(() => gate.stop())

const run = <X, E>(effect: Effect.Effect<X, E, TokenService | Credentials>) =>
  gate.broker.runtime.runPromise(effect as Effect.Effect<X, E, never>)

const root = (scopes: ReadonlyArray<string>) =>
  Effect.flatMap(TokenService, (t) =>
    t.mintRoot({
      tenant: A,
      session: "sess-tm07",
      user: `user-${A}`,
      txn: "task-tm07",
      agent: "runner",
      intent: "gate.probe",
      scopes,
      ttlSeconds: 60,
      notAfter: Math.floor(Date.now() / 1000) + 600,
      trustDomain: "cordon.local"
    })
  )

describe("TM-07 minimal scopes per call", () => {
  it("TM-07 in a scripted run each call token's scope set equals the called tool's requirement exactly", async () => {
    const calls = [
      { tool: "account.lookup", args: { query: "acme" } },
      { tool: "notes.save", args: { format: "txt", text: "hello" } },
      { tool: "web.fetch", args: { url: "https://api.example.com/v1" } },
      { tool: "docs.get", args: { id: "A-1" } }
    ]
    const res = await gate.run(A, { agent: "runner", intent: "gate.probe", input: { calls } })
    expect(res.status).toBe("succeeded")
    const trace = await gate.trace(A, res.id)
    const tools = trace.filter((e) => e.kind === "tool")
    expect(tools.map((e) => e.name)).toEqual(calls.map((c) => c.tool))
    for (const e of tools) {
      expect(e.attrs.scopes).toEqual(gateTeam.tools.get(e.name)?.scopes)
      expect(e.attrs.audience).toBe(`tool:${e.name}`)
    }
    // The task's own token holds the whole intent; no call token holds more than one tool's need.
    const mintRoot = trace.find((e) => e.kind === "handoff" && e.name.startsWith("mint root"))
    expect(mintRoot?.attrs.scopes).toEqual(gateProbe.scopes)
    expect(tools.every((e) => (e.attrs.scopes as Array<string>).length === 1)).toBe(true)

    // Each call token is a recorded credential of the task, revoked when the task ended.
    const creds = await run(Effect.flatMap(Credentials, (c) => c.select({ tenant: A, task: res.id })))
    const callJtis = tools.map((e) => String(e.attrs.jti))
    expect(new Set(callJtis).size).toBe(calls.length)
    for (const short of callJtis) {
      const cred = creds.find((c) => c.jti.startsWith(short))
      expect(cred?.revoked, short).toBe(true)
    }
    const revoked = trace.filter((e) => e.kind === "revocation").map((e) => e.name)
    for (const short of callJtis) expect(revoked.some((name) => name.includes(short))).toBe(true)
  })

  it("TM-07 `*`, `x:*` and whole-catalogue requests are refused at mint and exchange with E_TOKEN_POLICY", async () => {
    for (const scopes of [["*"], ["docs:*"], ["docs:read", "*:write"]]) {
      const err = await run(Effect.flip(root(scopes)))
      expect(err).toMatchObject({ code: "E_TOKEN_POLICY", reason: "wildcard" })
    }
    const parent = await run(root(gateProbe.scopes))
    const binding = requestBinding("docs.get", canonicalJson({ id: "A-1" }))
    const forCall = (requestedScopes: ReadonlyArray<string>) =>
      Effect.flatMap(TokenService, (t) =>
        t.exchangeForCall({
          chain: [parent.token],
          audience: "tool:docs.get",
          requiredScopes: ["docs:read"],
          requestedScopes,
          binding,
          ttlSeconds: 30,
          maxDepth: 4,
          tenant: A
        })
      )
    expect(await run(Effect.flip(forCall(gateProbe.scopes)))).toMatchObject({
      code: "E_TOKEN_POLICY",
      reason: "catalogue"
    })
    expect(await run(Effect.flip(forCall(["docs:*"])))).toMatchObject({
      code: "E_TOKEN_POLICY",
      reason: "wildcard"
    })
    expect((await run(forCall(["docs:read"]))).claims.scp).toEqual(["docs:read"])
    const handoff = Effect.flatMap(TokenService, (t) =>
      t.exchange({
        chain: [parent.token],
        toAgent: "finance",
        intent: "gate.probe",
        requestedScopes: ["*"],
        allowedScopes: ["payments:refund"],
        ttlSeconds: 30,
        maxDepth: 4,
        trustDomain: "cordon.local",
        tenant: A
      })
    )
    expect(await run(Effect.flip(handoff))).toMatchObject({ code: "E_TOKEN_POLICY", reason: "wildcard" })
  })

  it("TM-07 a tool cannot declare a wildcard scope", () => {
    const declare = (scopes: ReadonlyArray<string>) => () =>
      Tool.make({
        name: "wide.tool",
        description: "wide",
        input: Schema.Struct({}),
        output: Schema.Struct({}),
        scopes,
        handler: () => Effect.succeed({})
      })
    expect(declare(["*"])).toThrow(/wildcard/)
    expect(declare(["docs:*"])).toThrow(/wildcard/)
    expect(declare(["docs:read"])).not.toThrow()
  })
})
