/**
 * Runs one agent inside a tenant worker: verifies the run's token chain locally (the worker holds only its
 * tenant's public keys), gives the program an `AgentContext` whose every call goes to the broker, and runs
 * tool handlers only after the broker allowed the call and the local checks pass too.
 */
import { SessionCacheRegistry } from "@cordon/cache/SessionCacheRegistry"
import { makeVerifiedChainCache, verifyChain } from "@cordon/identity/Verifier"
import { AgentContext, type AgentContextApi } from "@cordon/sdk/AgentContext"
import { Denied, ToolFailed } from "@cordon/sdk/Errors"
import type { Team } from "@cordon/sdk/Team"
import type { ToolContext } from "@cordon/sdk/ToolContext"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AgentEvent, CallBody, ReplyBody } from "../Protocol.js"
import { RemoteFailure } from "../Protocol.js"
import { WorkerState, type WorkerStateApi } from "../WorkerState.js"
import { agentUri } from "./paths.js"

type Emit = (event: AgentEvent) => Effect.Effect<boolean>

let callCounter = 0

/** This worker's verified chain prefixes (its tenant's only: a link is served only under its own JWKS). */
const chainCache = makeVerifiedChainCache({ maxEntries: 5_000 })

/** Verifies `chain` with the worker's own keys and revocation list; the leaf must be `agent`'s token. */
const verifyLocal = (state: WorkerStateApi, chain: ReadonlyArray<string>, agent: string) =>
  verifyChain(chain, {
    tenant: state.tenant,
    issuer: state.issuer,
    audience: agentUri(state.trustDomain, state.tenant, agent),
    jwks: state.keys.jwks,
    isRevoked: (jti) => state.revoked.has(jti),
    now: new Date(),
    clockToleranceSec: state.clockToleranceSec,
    maxDepth: state.maxDepth,
    cache: chainCache
  })

/** Runs `req.agent`; succeeds with its encoded output, fails with a stable-coded `RemoteFailure`. */
export const runAgent = (
  team: Team,
  req: {
    readonly runId: string
    readonly agent: string
    readonly input: unknown
    readonly chain: ReadonlyArray<string>
  },
  emit: Emit
) =>
  Effect.gen(function* () {
    const state = yield* WorkerState
    const caches = yield* SessionCacheRegistry
    const agent = team.agents.get(req.agent)
    if (agent === undefined)
      return yield* new RemoteFailure({ code: "E_UNKNOWN_AGENT", reason: "unknown agent" })
    const verified = yield* verifyLocal(state, req.chain, req.agent).pipe(
      Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: e.reason }))
    )
    const leaf = verified.leaf
    const cache = yield* caches
      .get(leaf.sid)
      .pipe(Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: "session cache unavailable" })))
    const input = yield* Schema.decodeUnknown(agent.input)(req.input).pipe(
      Effect.mapError(
        () => new RemoteFailure({ code: "E_BAD_INPUT", reason: `input rejected by ${agent.name}` })
      )
    )

    /** Sends a call and waits for the broker's reply. */
    const ask = (body: CallBody) => {
      const callId = `${req.runId}.${++callCounter}`
      return Effect.gen(function* () {
        const reply = yield* Deferred.make<ReplyBody>()
        state.pending.set(callId, reply)
        const sent = yield* emit({ _tag: "Call", callId, chain: req.chain, body })
        // A closed channel means the run has ended: nothing outlives it, so late calls fail closed.
        if (!sent) return { _tag: "Refused", code: "E_RUN_ENDED", reason: "the agent run has ended" } as const
        return yield* Deferred.await(reply)
      }).pipe(Effect.ensuring(Effect.sync(() => state.pending.delete(callId))))
    }

    /** Sends a one-way event (the broker does not reply). */
    const tell = (body: CallBody) =>
      Effect.asVoid(emit({ _tag: "Call", callId: `${req.runId}.${++callCounter}`, chain: req.chain, body }))

    const toolContext: ToolContext = {
      tenant: leaf.tnt,
      session: leaf.sid,
      txn: leaf.txn,
      agent: agent.name,
      intent: leaf.int,
      cache,
      tenantDir: state.tenantDir,
      settings: state.settings
    }

    const callTool: AgentContextApi["callTool"] = (toolName, rawInput) =>
      Effect.gen(function* () {
        const tool = team.tools.get(toolName)
        const decoded =
          tool === undefined
            ? undefined
            : yield* Schema.decodeUnknown(tool.input)(rawInput).pipe(
                Effect.mapError(
                  () => new ToolFailed({ code: "E_BAD_INPUT", reason: `input rejected by ${toolName}` })
                )
              )
        const records = tool === undefined ? [] : tool.records(decoded)
        /** A refusal by the worker itself: reported to the broker (which audits it), then raised. */
        const refuseLocally = (code: string, reason: string, spanId: string | null = null) =>
          Effect.zipRight(
            tell({ _tag: "LocalDeny", tool: toolName, code, reason, spanId }),
            new Denied({ code, reason })
          )
        if (performance.now() - state.revocationView.syncedAt > state.revocationStaleMs) {
          return yield* refuseLocally("E_REVOCATION_UNAVAILABLE", "revocation view is stale")
        }
        const reply = yield* ask({ _tag: "Authorize", tool: toolName, records })
        if (reply._tag === "Refused") return yield* new Denied({ code: reply.code, reason: reply.reason })
        if (reply._tag !== "Allowed" || tool === undefined) {
          return yield* new Denied({ code: "E_PROTOCOL", reason: "unexpected broker reply" })
        }
        // Defence in depth: the broker allowed it; the worker re-checks the chain (revocation) and scopes.
        const now = yield* verifyLocal(state, req.chain, req.agent).pipe(Effect.either)
        if (now._tag === "Left") return yield* refuseLocally(now.left.code, now.left.reason, reply.spanId)
        const held = new Set(now.right.leaf.scp)
        if (!tool.scopes.every((s) => held.has(s))) {
          return yield* refuseLocally("E_TOOL_NOT_ALLOWED", "token lacks the tool's scopes", reply.spanId)
        }
        const started = Date.now()
        const result = yield* tool.handler(decoded, toolContext).pipe(
          Effect.flatMap((out) =>
            Effect.as(
              Schema.encode(tool.output)(out).pipe(
                Effect.mapError(
                  () => new ToolFailed({ code: "E_BAD_OUTPUT", reason: `${toolName} output invalid` })
                )
              ),
              out
            )
          ),
          Effect.tapError((e) =>
            tell({
              _tag: "ToolDone",
              spanId: reply.spanId,
              ok: false,
              code: e.code,
              durationMs: Date.now() - started
            })
          )
        )
        yield* tell({
          _tag: "ToolDone",
          spanId: reply.spanId,
          ok: true,
          code: null,
          durationMs: Date.now() - started
        })
        return result as unknown
      })

    const handoff: AgentContextApi["handoff"] = (agentName, childInput) =>
      Effect.gen(function* () {
        const target = team.agents.get(agentName)
        const encoded =
          target === undefined
            ? childInput
            : yield* Schema.encodeUnknown(target.input)(childInput).pipe(
                Effect.mapError(
                  () => new ToolFailed({ code: "E_BAD_INPUT", reason: `input rejected by ${agentName}` })
                )
              )
        const reply = yield* ask({ _tag: "Handoff", agent: agentName, input: encoded })
        if (reply._tag === "Refused") return yield* new Denied({ code: reply.code, reason: reply.reason })
        if (reply._tag !== "HandoffResult" || target === undefined) {
          return yield* new Denied({ code: "E_PROTOCOL", reason: "unexpected broker reply" })
        }
        return yield* Schema.decodeUnknown(target.output)(reply.output).pipe(
          Effect.mapError(
            () => new ToolFailed({ code: "E_BAD_OUTPUT", reason: `${agentName} output invalid` })
          )
        )
      })

    const context: AgentContextApi = {
      tenant: leaf.tnt,
      session: leaf.sid,
      txn: leaf.txn,
      agent: agent.name,
      intent: leaf.int,
      depth: leaf.dep,
      callTool,
      handoff,
      note: (message) => tell({ _tag: "Note", message: message.slice(0, 2000) })
    }

    const output = yield* agent.run(input).pipe(
      Effect.provideService(AgentContext, context),
      Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: e.reason }))
    )
    return yield* Schema.encode(agent.output)(output).pipe(
      Effect.mapError(
        () => new RemoteFailure({ code: "E_BAD_OUTPUT", reason: `${agent.name} output invalid` })
      )
    )
  })
