/**
 * Runs one agent inside a tenant worker: verifies the run's token chain locally (the worker holds only its
 * tenant's public keys), gives the program an `AgentContext` whose every call goes to the broker, and runs
 * tool handlers only after the broker allowed the call and the local checks pass too.
 */
import { bindSession } from "@cordon/cache/CacheBinding"
import { SessionCacheRegistry } from "@cordon/cache/SessionCacheRegistry"
import { canonicalJson, requestBinding } from "@cordon/identity/CanonicalJson"
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
import { inspect } from "./messageSize.js"
import { agentUri } from "./paths.js"
import * as Taint from "./taint.js"
import * as Guards from "./toolGuards.js"

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

    // MC-03: the task's record of untrusted cache content, released when this run ends (see `agent.run`).
    const taint = Taint.acquireTaskTaint(leaf.txn)
    // What tool handlers get; made on the run's first tool call (a run that calls none never needs it).
    let toolContext: ToolContext | undefined
    const toolContextOf = (): ToolContext =>
      (toolContext ??= {
        tenant: leaf.tnt,
        session: leaf.sid,
        txn: leaf.txn,
        agent: agent.name,
        intent: leaf.int,
        cache: Taint.trackCache(cache.forTask(leaf.txn), taint.tracker),
        tenantDir: state.tenantDir,
        sessionDir: Guards.sessionDirOf(state.tenantDir, leaf.sid),
        settings: state.settings
      })

    const callTool: AgentContextApi["callTool"] = (toolName, rawInput, options) =>
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
        // The arguments as sent (screened by the broker) and their canonical form (bound in the call token).
        const badInput = () =>
          new ToolFailed({ code: "E_BAD_INPUT", reason: `input rejected by ${toolName}` })
        const sent = yield* Effect.try({ try: () => canonicalJson(rawInput), catch: badInput })
        const bound = tool === undefined ? undefined : Guards.canonicalArgs(tool, rawInput)
        if (tool !== undefined && bound === undefined) return yield* badInput()
        /** A refusal by the worker itself: reported to the broker (which audits it), then raised. */
        const refuseLocally = (code: string, reason: string, spanId: string | null = null) =>
          Effect.zipRight(
            tell({ _tag: "LocalDeny", tool: toolName, code, reason, spanId }),
            new Denied({ code, reason })
          )
        if (performance.now() - state.revocationView.syncedAt > state.revocationStaleMs) {
          return yield* refuseLocally("E_REVOCATION_UNAVAILABLE", "revocation view is stale")
        }
        // MC-03: the entries of untrusted content these arguments carry fragments of (the broker decides).
        const tainted = Taint.matchesOf(taint.tracker, sent)
        const reply = yield* ask({
          _tag: "Authorize",
          tool: toolName,
          records,
          args: sent,
          ...(options?.approval === undefined ? {} : { approval: options.approval }),
          ...(tainted.length === 0 ? {} : { taint: { hashes: tainted } })
        })
        if (reply._tag === "Refused") return yield* new Denied({ code: reply.code, reason: reply.reason })
        if (reply._tag !== "Allowed" || tool === undefined || bound === undefined) {
          return yield* new Denied({ code: "E_PROTOCOL", reason: "unexpected broker reply" })
        }
        // Defence in depth: the broker allowed it; the worker re-checks the chain (revocation) and scopes.
        const now = yield* verifyLocal(state, req.chain, req.agent).pipe(Effect.either)
        if (now._tag === "Left") return yield* refuseLocally(now.left.code, now.left.reason, reply.spanId)
        const held = new Set(now.right.leaf.scp)
        if (!tool.scopes.every((s) => held.has(s))) {
          return yield* refuseLocally("E_TOOL_NOT_ALLOWED", "token lacks the tool's scopes", reply.spanId)
        }
        // The per-call token: this tool's audience, these arguments, this caller, once (RP-03, TM-07).
        const binding = requestBinding(tool.name, bound.text)
        const admitted = Guards.admitCall(state, tool, binding, now.right, reply.callToken)
        if (admitted._tag === "Left") {
          return yield* refuseLocally(admitted.left.code, admitted.left.reason, reply.spanId)
        }
        const jailed = Guards.jailError(tool, bound.value, toolContextOf().sessionDir)
        if (jailed !== undefined) {
          return yield* refuseLocally("E_TOOL_NOT_ALLOWED", `argument: ${jailed}`, reply.spanId)
        }
        const started = Date.now()
        const result = yield* tool.handler(decoded, toolContextOf()).pipe(
          Effect.flatMap((out) =>
            Effect.as(
              Schema.encode(tool.output)(out).pipe(
                Effect.mapError(
                  () => new ToolFailed({ code: "E_BAD_OUTPUT", reason: `${toolName} output invalid` })
                ),
                // A tool response over the message cap is refused before the agent sees it (RE-02).
                Effect.filterOrFail(
                  (encoded) => inspect(encoded, state.maxMessageBytes)._tag !== "too_large",
                  () =>
                    new ToolFailed({
                      code: "E_RESOURCE_LIMIT",
                      reason: `${toolName} output over the size limit`
                    })
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
        // IP-01: a result holding another tenant's record is withheld whole; the broker audits it.
        const foreign = Guards.foreignRecord(tool, result, leaf.tnt)
        if (foreign !== undefined) {
          const reason = "result_record: the result holds a record of another tenant"
          yield* tell({
            _tag: "LocalDeny",
            tool: toolName,
            code: "E_TENANT_MISMATCH",
            reason,
            spanId: reply.spanId,
            record: Guards.auditableRecord(foreign)
          })
          return yield* new Denied({ code: "E_TENANT_MISMATCH", reason })
        }
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

    const schedule: AgentContextApi["schedule"] = (agentName, jobInput, options) =>
      Effect.gen(function* () {
        const target = team.agents.get(agentName)
        const encoded =
          target === undefined
            ? jobInput
            : yield* Schema.encodeUnknown(target.input)(jobInput).pipe(
                Effect.mapError(
                  () => new ToolFailed({ code: "E_BAD_INPUT", reason: `input rejected by ${agentName}` })
                )
              )
        const delayMs = Math.max(0, Math.floor(options.delayMs))
        const reply = yield* ask({ _tag: "Schedule", agent: agentName, input: encoded, delayMs })
        if (reply._tag === "Refused") return yield* new Denied({ code: reply.code, reason: reply.reason })
        if (reply._tag !== "Scheduled") {
          return yield* new Denied({ code: "E_PROTOCOL", reason: "unexpected broker reply" })
        }
        return { job: reply.job }
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
      schedule,
      note: (message) => tell({ _tag: "Note", message: message.slice(0, 2000) })
    }

    const output = yield* agent.run(input).pipe(
      Effect.provideService(AgentContext, context),
      // only this session's cache is reachable from the agent and its tools (MC-01)
      bindSession(leaf.tnt, leaf.sid),
      Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: e.reason })),
      Effect.ensuring(Effect.sync(taint.release))
    )
    return yield* Schema.encode(agent.output)(output).pipe(
      Effect.mapError(
        () => new RemoteFailure({ code: "E_BAD_OUTPUT", reason: `${agent.name} output invalid` })
      )
    )
  })
