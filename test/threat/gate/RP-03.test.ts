/**
 * RP-03 — a token lifted from one call is replayed against another tool, or with other arguments. Each
 * call token's audience is the tool (`tool:<name>`) and its `rqb` claim binds the tool and the canonical
 * arguments; the worker-side tool wrapper verifies both before the handler runs. Here the test plays a
 * compromised broker towards the REAL tenant worker: it answers the worker's `Authorize` with a call token
 * lifted from another call (minted with the tenant's real keys) and watches the wrapper refuse it.
 */
import { canonicalJson, requestBinding } from "@cordon/identity/CanonicalJson"
import { TokenService } from "@cordon/identity/TokenService"
import { RemoteFailure, Reply, RunAgent } from "@cordon/runtime/Protocol"
import { TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { Effect, Either, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { gateProbe, gateTeam } from "../../fixtures/gateTeam.js"
import { A, type Gate, startGate } from "./support.js"

let gate: Gate
let session: string
beforeAll(async () => {
  gate = await startGate()
  session = await gate.session(A)
  // A normal task boots tenant A's worker and opens the session's cache there.
  const warm = await gate.run(A, {
    agent: "runner",
    intent: "gate.probe",
    session,
    input: { calls: [{ tool: "account.lookup", args: { query: "warm-up" } }] }
  })
  expect(warm.status).toBe("succeeded")
})
afterAll(() => gate.stop())

let runs = 0

/**
 * Runs `runner` on tenant A's real worker to call `account.lookup({ query: "x" })`, answering its
 * `Authorize` with a call token minted for `lifted.tool` and `lifted.args` from the run's caller token — or,
 * with `replay`, with an earlier run's caller token and call token. Returns the run's failure code (or
 * "ok"), the worker's local denies and the tokens used.
 */
const attack = (
  lifted: { tool: string; args: unknown },
  replay?: { readonly root: string; readonly call: string }
) =>
  gate.broker.runtime.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const tokens = yield* TokenService
        const worker = yield* (yield* TenantWorkerPool).get(A)
        const root = yield* tokens.mintRoot({
          tenant: A,
          session,
          user: `user-${A}`,
          txn: `rp03-${++runs}`,
          agent: "runner",
          intent: "gate.probe",
          scopes: gateProbe.scopes,
          ttlSeconds: 60,
          notAfter: Math.floor(Date.now() / 1000) + 600,
          trustDomain: "cordon.local"
        })
        const scopes = gateTeam.tools.get(lifted.tool)?.scopes ?? []
        const call = yield* tokens.exchangeForCall({
          chain: [root.token],
          audience: `tool:${lifted.tool}`,
          requiredScopes: scopes,
          requestedScopes: scopes,
          binding: requestBinding(lifted.tool, canonicalJson(lifted.args)),
          ttlSeconds: 30,
          maxDepth: 4,
          tenant: A,
          session
        })
        const chain = [replay?.root ?? root.token]
        const presented = replay?.call ?? call.token
        const localDenies: Array<{ code: string; reason: string }> = []
        const input = { calls: [{ tool: "account.lookup", args: { query: "x" } }] }
        const outcome = yield* worker
          .execute(new RunAgent({ runId: `rp03-${runs}`, agent: "runner", input, chain }))
          .pipe(
            Stream.runForEach((event) => {
              if (event._tag !== "Call") return Effect.void
              const body = event.body
              if (body._tag === "LocalDeny") localDenies.push({ code: body.code, reason: body.reason })
              if (body._tag !== "Authorize") return Effect.void
              return worker
                .executeEffect(
                  new Reply({
                    callId: event.callId,
                    body: { _tag: "Allowed", spanId: "rp03", callToken: presented }
                  })
                )
                .pipe(Effect.ignore)
            }),
            Effect.either
          )
        const code = Either.isRight(outcome)
          ? "ok"
          : outcome.left instanceof RemoteFailure
            ? outcome.left.code
            : "E_WORKER"
        return { code, localDenies, root: root.token, call: call.token }
      })
    )
  )

describe("RP-03 call tokens bound to one tool and one request", () => {
  it("RP-03 a token for another tool → E_AUDIENCE_MISMATCH; the handler does not run", async () => {
    const before = gate.count(A, "effects.log").length
    const res = await attack({ tool: "notes.save", args: { format: "txt", text: "x" } })
    expect(res.code).toBe("E_AUDIENCE_MISMATCH")
    expect(res.localDenies).toEqual([{ code: "E_AUDIENCE_MISMATCH", reason: "expected" }])
    expect(gate.count(A, "effects.log")).toHaveLength(before)
  })

  it("RP-03 a token for the same tool with other arguments → E_TOKEN_INVALID(request_binding)", async () => {
    const before = gate.count(A, "effects.log").length
    const res = await attack({ tool: "account.lookup", args: { query: "someone-else" } })
    expect(res.code).toBe("E_TOKEN_INVALID")
    expect(res.localDenies).toEqual([{ code: "E_TOKEN_INVALID", reason: "request_binding" }])
    expect(gate.count(A, "effects.log")).toHaveLength(before)
  })

  it("RP-03 the token of this very call runs once; presented again it is a replay", async () => {
    const before = gate.count(A, "effects.log").length
    const first = await attack({ tool: "account.lookup", args: { query: "x" } })
    expect(first.code).toBe("ok")
    expect(gate.count(A, "effects.log")).toHaveLength(before + 1)
    const again = await attack({ tool: "account.lookup", args: { query: "x" } }, first)
    expect(again.code).toBe("E_TOKEN_REPLAY")
    expect(again.localDenies).toEqual([{ code: "E_TOKEN_REPLAY", reason: "seen" }])
    expect(gate.count(A, "effects.log")).toHaveLength(before + 1)
  })
})
