/**
 * The broker's half of an agent run: streams `RunAgent` on the tenant's worker and answers every call the
 * agent makes. Each tool call passes the gate (verify chain → scopes → policy decision → audit) and each
 * handoff is a token exchange (verify chain → policy decision → mint a narrower token → audit) whose new
 * credential is bound to the task's scope, so it is revoked when the task ends, whatever the exit.
 */
import { Authorizer } from "@cordon/policy/Authorizer"
import type { PolicyDecision } from "@cordon/policy/PolicyRequest"
import type { TaskClaims } from "@cordon/identity/Claims"
import { KeyRing } from "@cordon/identity/KeyRing"
import { RevocationList, type RevocationReason } from "@cordon/identity/RevocationList"
import { TokenService } from "@cordon/identity/TokenService"
import { makeVerifiedChainCache, verifyChain } from "@cordon/identity/Verifier"
import type { Intent } from "@cordon/sdk/Intent"
import type { Team } from "@cordon/sdk/Team"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import {
  type AgentEvent,
  type CallBody,
  RemoteFailure,
  Reply,
  type ReplyBody,
  RunAgent
} from "../Protocol.js"
import { RuntimeConfig } from "../RuntimeConfig.js"
import type { TenantWorker } from "../TenantWorkerPool.js"
import { approvalGate } from "./approvalGate.js"
import { recordDecision } from "./auditing.js"
import { scheduleJob } from "./jobGate.js"
import { UpstreamGuards } from "../UpstreamGuards.js"
import { recordLifecycle } from "./auditing.js"
import type { TaskCounters } from "./upstreamGuards.js"
import { Credentials } from "@cordon/store/Credentials"
import { agentUri, tenantDirOf } from "./paths.js"
import { callTokenSummary, issueCallToken } from "./callTokens.js"
import { deniedForTaint, taintDetail, taintRefusal } from "./taint.js"
import * as Guards from "./toolGuards.js"
import type { Tracer } from "./tracing.js"

/** Everything fixed for one task while it runs. */
export interface TaskRun {
  readonly tenant: string
  readonly session: string
  /** When the session ends (epoch ms): nothing the task starts may outlive it. */
  readonly sessionExpiresAt: number
  readonly user: string
  readonly txn: string
  readonly intent: Intent
  readonly team: Team
  readonly worker: TenantWorker
  readonly tracer: Tracer
  /** The task's scope: credentials minted for the task are released (revoked) when it closes. */
  readonly scope: Scope.Scope
  /** Handoffs, tool calls and denials so far in this task (RE-04, CF-04). */
  readonly counters: TaskCounters
  /** Revokes tokens of this task's tenant (store, in-memory list, and the tenant's worker). */
  readonly revoke: (
    tokens: ReadonlyArray<{ readonly jti: string; readonly exp: number }>,
    reason: RevocationReason
  ) => Effect.Effect<void>
}

let runCounter = 0

/**
 * Verified chain prefixes, shared by every run in this broker: a hop then verifies only its new link. A
 * cached link is served only while its key is still in the tenant's JWKS; expiry, binding and revocation
 * of every link are re-checked on every use.
 */
const chainCache = makeVerifiedChainCache({ maxEntries: 10_000 })

const short = (jti: string) => jti.slice(0, 8)

/** Token summary for the trace: never the token itself. */
export const tokenSummary = (c: TaskClaims) => ({
  jti: short(c.jti),
  scopes: c.scp,
  exp: c.exp,
  depth: c.dep,
  agent: c.sub.slice(c.sub.lastIndexOf("/") + 1)
})

/**
 * Records a credential as live and binds it to the task's scope: the scope's finalizer revokes it
 * (reason `task_complete`) when the task ends — success, failure, timeout or interruption.
 */
export const bindCredential = (run: TaskRun, claims: Pick<TaskClaims, "jti" | "exp">, agent: string) =>
  Effect.flatMap(Credentials, (creds) =>
    Effect.acquireRelease(
      creds.record({
        jti: claims.jti,
        tenant: run.tenant,
        session: run.session,
        task: run.txn,
        agent,
        exp: claims.exp
      }),
      () => run.revoke([{ jti: claims.jti, exp: claims.exp }], "task_complete")
    ).pipe(Scope.extend(run.scope))
  )

/** Verifies a chain the worker sent with the tenant's keys and the broker's revocation list. */
const verifyCall = (run: TaskRun, chain: ReadonlyArray<string>, agent: string, leafJti: string) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const keys = yield* KeyRing
    const revocations = yield* RevocationList
    const tokens = yield* TokenService
    const jwks = yield* keys.jwks(run.tenant)
    const verified = yield* verifyChain(chain, {
      tenant: run.tenant,
      issuer: tokens.issuer(run.tenant),
      audience: agentUri(config.trustDomain, run.tenant, agent),
      jwks,
      isRevoked: (jti) => revocations.isRevoked(jti),
      now: new Date(),
      clockToleranceSec: config.clockToleranceSec,
      maxDepth: config.maxDepth,
      // Bound to the run the broker started: its session and root task (IP-03), never read from the call.
      session: run.session,
      txn: run.txn,
      cache: chainCache
    })
    // The call arrived on the channel of a run the broker started: it must carry that run's own token.
    if (verified.leaf.jti !== leafJti) {
      return yield* new RemoteFailure({ code: "E_DELEGATION_CHAIN", reason: "call not bound to this run" })
    }
    return verified
  }).pipe(
    Effect.catchIf(
      (e): e is Exclude<typeof e, RemoteFailure> => !(e instanceof RemoteFailure),
      (e) => Effect.fail(new RemoteFailure({ code: e.code, reason: e.reason }))
    )
  )

/** A policy decision as recorded: Cedar's, or a broker/worker rule's with its own stable code. */
export type Verdict = Omit<PolicyDecision, "code"> & { readonly code: string | null }

export const refused = (code: string, reason: string): ReplyBody => ({ _tag: "Refused", code, reason })

/** Principal of a policy request: the agent holding the leaf token. */
export const principalOf = (run: TaskRun, config: { trustDomain: string }, agent: string) => ({
  tenant: run.tenant,
  agent,
  spiffeId: agentUri(config.trustDomain, run.tenant, agent),
  handoffs: run.team.agents.get(agent)?.handoffs ?? []
})

export const contextOf = (run: TaskRun, chain: ReadonlyArray<TaskClaims>) => ({
  tenant: run.tenant,
  session: run.session,
  intent: {
    name: run.intent.name,
    tools: run.intent.tools,
    agents: run.intent.agents,
    actions: run.intent.actions
  },
  depth: chain[chain.length - 1]?.dep ?? 0,
  actors: chain.map((c) => c.sub),
  rootUser: run.user,
  now: Math.floor(Date.now() / 1000)
})

/**
 * The audit reason of a decision (issue 4 §6): `allow by <ids>` / `deny by <ids>` naming the determining
 * policies, or the first diagnostic when it could not be evaluated, then `detail` (e.g. an approval id).
 */
const decisionReason = (decision: Verdict, detail: string | undefined): string => {
  const ids = decision.determiningPolicies.join(",")
  const base =
    decision.decision === "allow"
      ? `allow by ${ids || "none"}`
      : (decision.errors[0] ?? (ids === "" ? "deny: no policy permits" : `deny by ${ids}`))
  return detail === undefined ? base : `${base}; ${detail}`
}

/**
 * Decides, audits and traces steps of one call (its run, verified chain, agent and trace parent). A deny
 * (from a local rule or from Cedar) is recorded and traced and returned for the caller to refuse with its
 * stable code; the audit append failing fails the call closed (`E_AUDIT_UNAVAILABLE`).
 */
export const decider =
  (run: TaskRun, chain: ReadonlyArray<TaskClaims>, agent: string, parentSpan: string) =>
  (step: { action: string; resource: string; name: string }, decision: Verdict, detail?: string) =>
    Effect.gen(function* () {
      const config = yield* RuntimeConfig
      yield* recordDecision({
        tenant: run.tenant,
        session: run.session,
        workload: agentUri(config.trustDomain, run.tenant, agent),
        intent: run.intent.name,
        chain,
        action: step.action,
        resource: step.resource,
        decision: decision.decision,
        errorCode: decision.code,
        reason: decisionReason(decision, detail),
        policyVersion: decision.policyVersion
      }).pipe(
        // Fail closed: a decision that cannot be recorded is not acted on.
        Effect.mapError(
          () => new RemoteFailure({ code: "E_AUDIT_UNAVAILABLE", reason: "audit log unavailable" })
        )
      )
      if (
        decision.decision === "deny" &&
        !CapacityCodes.has(decision.code ?? "") &&
        run.counters.denied(agent, config.upstream.quarantineAfterDenials)
      ) {
        // CF-04: an agent denied again and again in one task is quarantined for the rest of it.
        yield* recordLifecycle({
          tenant: run.tenant,
          session: run.session,
          action: "agent.quarantine",
          resource: `${run.tenant}/Agent/${agent}`,
          reason: JSON.stringify({ task: run.txn, denials: config.upstream.quarantineAfterDenials }),
          errorCode: "E_AGENT_QUARANTINED"
        }).pipe(
          Effect.mapError(
            () => new RemoteFailure({ code: "E_AUDIT_UNAVAILABLE", reason: "audit log unavailable" })
          )
        )
      }
      if (decision.decision === "deny") {
        yield* run.tracer.event("policy", `${step.action} ${step.name}`, parentSpan, "deny", {
          code: decision.code,
          policies: decision.determiningPolicies,
          policyVersion: decision.policyVersion
        })
      }
      return decision
    })

/** A decision made by a broker rule before Cedar (scope, unknown tool, ...), in the same record shape. */
export const localDeny = (code: string, rule: string, policyVersion: string): Verdict => ({
  decision: "deny",
  code,
  determiningPolicies: [rule],
  policyVersion,
  errors: []
})

/**
 * `verifyCall`, with a refusal recorded like any other deny (audit record + trace) before it is returned:
 * a revoked, expired or forged chain is a decision too.
 */
export const verifyAudited = (
  run: TaskRun,
  chain: ReadonlyArray<string>,
  agent: string,
  leafJti: string,
  parentSpan: string,
  step: { action: string; resource: string; name: string }
) =>
  verifyCall(run, chain, agent, leafJti).pipe(
    Effect.tapError((e) =>
      Effect.flatMap(Authorizer, (authorizer) =>
        decider(
          run,
          [],
          agent,
          parentSpan
        )(step, localDeny(e.code, "broker.chain-verification", authorizer.versionOf(run.tenant)))
      ).pipe(Effect.ignoreLogged)
    )
  )

/** The gate before a tool handler: verify chain → scopes → policy decisions → audit. */
const authorizeTool = (
  run: TaskRun,
  agent: string,
  leafJti: string,
  parentSpan: string,
  chain: ReadonlyArray<string>,
  body: Extract<CallBody, { _tag: "Authorize" }>
) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const authorizer = yield* Authorizer
    const resource = `${run.tenant}/Tool/${body.tool}`
    const step = { action: "InvokeTool", resource, name: body.tool }
    const verified = yield* verifyAudited(run, chain, agent, leafJti, parentSpan, step)
    const claims = verified.claims
    const judge = decider(run, claims, agent, parentSpan)
    const tool = run.team.tools.get(body.tool)
    const declared = run.team.agents.get(agent)?.tools.includes(body.tool) ?? false
    const version = authorizer.versionOf(run.tenant)
    const runaway = stepGuard(run, agent, "steps", config.upstream.maxStepsPerTask)
    if (runaway !== undefined) {
      yield* judge(step, localDeny(runaway.code, runaway.rule, version))
      return refused(runaway.code, runaway.reason)
    }
    if (tool === undefined || !declared) {
      yield* judge(step, localDeny("E_TOOL_NOT_ALLOWED", "broker.tool-declared", version))
      return refused("E_TOOL_NOT_ALLOWED", `tool ${body.tool} is not available to ${agent}`)
    }
    // The gate's own rules before Cedar: identity in the arguments, argument constraints, delegated scopes.
    const sessionDir = Guards.sessionDirOf(tenantDirOf(config.dataDir, run.tenant), run.session)
    const screened = Guards.screenCall(tool, body.args, run.tenant, sessionDir)
    if (screened._tag === "Left") {
      const e = screened.left
      yield* judge(step, Guards.gateVerdict(e.code, `broker.${e.reason}`, e.detail, version))
      return refused(e.code, `${e.reason}: ${e.detail}`)
    }
    const standingOf = (name: string) => run.team.agents.get(name)?.scopes ?? []
    const actors = claims.map((c) => c.sub)
    const short = Guards.scopeShortfall(tool, verified.leaf.scp, actors, standingOf)
    if (short !== undefined) {
      yield* judge(step, Guards.gateVerdict(short.code, short.rule, short.detail, version))
      return refused(short.code, short.detail)
    }
    const principal = principalOf(run, config, agent)
    const context = contextOf(run, claims)
    // Cedar decision, through the human-approval step (IP-07): an approval binds this exact action.
    const gate = yield* approvalGate({
      action: {
        tenant: run.tenant,
        session: run.session,
        task: run.txn,
        agent,
        tool: body.tool,
        args: screened.right.args
      },
      approval: body.approval,
      decide: (approved) =>
        authorizer.authorize({
          principal,
          action: "InvokeTool",
          resource: { type: "Tool", tenant: run.tenant, name: body.tool, risk: tool.risk },
          // MC-03: arguments carrying untrusted content; `platform.tainted-high-risk` forbids high-risk tools.
          context: {
            ...Guards.policyContextWithArgs(context, screened.right.args),
            approved,
            tainted: body.taint !== undefined
          }
        }),
      judge: (verdict, detail) => judge(step, verdict, taintDetail(body.taint?.hashes, verdict, detail))
    })
    const toolDecision = gate.verdict
    if (toolDecision.decision === "deny") {
      const reason = deniedForTaint(toolDecision) ? taintRefusal : gate.reason
      return refused(toolDecision.code ?? "E_POLICY_DENY", reason)
    }
    for (const record of body.records) {
      const recordDecision_ = yield* judge(
        {
          action: "AccessRecord",
          resource: `${record.tenant}/${record.type}/${record.id}`,
          name: `${record.type} ${record.id}`
        },
        yield* authorizer.authorize({
          principal,
          action: "AccessRecord",
          resource: { type: record.type, tenant: record.tenant, id: record.id },
          context
        })
      )
      if (recordDecision_.decision === "deny") {
        return refused(recordDecision_.code ?? "E_POLICY_DENY", `${record.type} access denied`)
      }
    }
    // Shared upstreams (RE-03, CF-03): the tenant's and session's budgets, then this tool's circuit.
    const guards = yield* UpstreamGuards
    const now = performance.now()
    const overBudget = guards.budgets.charge(run.tenant, run.session, 1, now)
    if (overBudget !== undefined) {
      yield* judge(step, localDeny("E_QUOTA_EXCEEDED", `broker.budget-${overBudget}`, version))
      return refused("E_QUOTA_EXCEEDED", `${overBudget} budget exhausted`)
    }
    if (guards.breakers.admit(run.tenant, body.tool, now) === "open") {
      yield* judge(step, localDeny("E_CIRCUIT_OPEN", "broker.circuit-breaker", version))
      return refused("E_CIRCUIT_OPEN", `${body.tool} is failing; circuit open`)
    }
    // Minimal scopes per call (TM-07): a token for this tool and these arguments only, dying with the task.
    const call = yield* issueCallToken(run, chain, tool, screened.right.binding, config).pipe(Effect.either)
    if (call._tag === "Left") {
      const e = call.left
      yield* judge(step, Guards.gateVerdict(e.code, "broker.call-token", e.reason, version))
      return refused(e.code, `call token refused: ${e.reason}`)
    }
    yield* bindCredential(run, call.right.claims, agent).pipe(
      Effect.mapError(
        () => new RemoteFailure({ code: "E_STORE", reason: "credential could not be recorded" })
      )
    )
    const spanId = yield* run.tracer.start("tool", body.tool, parentSpan, callTokenSummary(call.right.claims))
    return { _tag: "Allowed", spanId, callToken: call.right.token } satisfies ReplyBody
  })

/** Refusals for capacity, not for what the agent asked: they do not count towards quarantine. */
const CapacityCodes: ReadonlySet<string> = new Set([
  "E_QUOTA_EXCEEDED",
  "E_CIRCUIT_OPEN",
  "E_AGENT_QUARANTINED"
])

/**
 * Counts one step of `kind` for `agent` in `run` and refuses it when the agent is quarantined
 * (`E_AGENT_QUARANTINED`) or the task has reached its cap (`E_QUOTA_EXCEEDED`, RE-04).
 */
const stepGuard = (run: TaskRun, agent: string, kind: "handoffs" | "steps", cap: number) => {
  if (run.counters.isQuarantined(agent)) {
    return {
      code: "E_AGENT_QUARANTINED",
      rule: "broker.quarantine",
      reason: `${agent} is quarantined for the rest of this task after repeated denials`
    }
  }
  run.counters[kind] += 1
  if (run.counters[kind] > cap) {
    return {
      code: "E_QUOTA_EXCEEDED",
      rule: kind === "handoffs" ? "broker.spawn-cap" : "broker.step-cap",
      reason: `${kind === "handoffs" ? "spawn" : "steps"} limit of ${cap} per task reached`
    }
  }
  return undefined
}

/** Token exchange for a handoff, then the target agent's run on the same tenant worker. */
const handoff = (
  run: TaskRun,
  agent: string,
  leafJti: string,
  parentSpan: string,
  chain: ReadonlyArray<string>,
  body: Extract<CallBody, { _tag: "Handoff" }>
): Effect.Effect<ReplyBody, RemoteFailure, Services> =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const authorizer = yield* Authorizer
    const tokens = yield* TokenService
    const step = { action: "Handoff", resource: `${run.tenant}/Agent/${body.agent}`, name: body.agent }
    const verified = yield* verifyAudited(run, chain, agent, leafJti, parentSpan, step)
    const claims = verified.claims
    const judge = decider(run, claims, agent, parentSpan)
    const spawn = stepGuard(run, agent, "handoffs", config.upstream.maxHandoffsPerTask)
    if (spawn !== undefined) {
      yield* judge(step, localDeny(spawn.code, spawn.rule, authorizer.versionOf(run.tenant)))
      return refused(spawn.code, spawn.reason)
    }
    const target = run.team.agents.get(body.agent)
    if (target === undefined) {
      yield* judge(
        step,
        localDeny("E_HANDOFF_DENIED", "broker.agent-known", authorizer.versionOf(run.tenant))
      )
      return refused("E_HANDOFF_DENIED", `no agent ${body.agent}`)
    }
    const decision = yield* judge(
      step,
      yield* authorizer.authorize({
        principal: principalOf(run, config, agent),
        action: "Handoff",
        resource: {
          type: "Agent",
          tenant: run.tenant,
          name: target.name,
          spiffeId: agentUri(config.trustDomain, run.tenant, target.name),
          handoffs: target.handoffs
        },
        context: contextOf(run, claims)
      })
    )
    if (decision.decision === "deny")
      return refused(decision.code ?? "E_HANDOFF_DENIED", `handoff to ${body.agent} denied`)
    const allowed = new Set(target.scopes)
    const requested = verified.leaf.scp.filter((s) => allowed.has(s))
    const minted = yield* tokens
      .exchange({
        tenant: run.tenant,
        session: run.session,
        chain,
        toAgent: target.name,
        intent: run.intent.name,
        requestedScopes: requested,
        allowedScopes: target.scopes,
        ttlSeconds: config.tokenTtlSec,
        maxDepth: config.maxDepth,
        trustDomain: config.trustDomain
      })
      .pipe(Effect.either)
    if (minted._tag === "Left") {
      const e = minted.left
      yield* run.tracer.event("handoff", `→ ${target.name}`, parentSpan, "deny", { code: e.code })
      return refused(e.code, `token exchange refused: ${e.reason}`)
    }
    yield* bindCredential(run, minted.right.claims, target.name).pipe(
      Effect.mapError(
        () => new RemoteFailure({ code: "E_STORE", reason: "credential could not be recorded" })
      )
    )
    const span = yield* run.tracer.start(
      "handoff",
      `→ ${target.name}`,
      parentSpan,
      tokenSummary(minted.right.claims)
    )
    const result = yield* runAgentOn(
      run,
      target.name,
      body.input,
      [...chain, minted.right.token],
      minted.right.claims.jti,
      span
    ).pipe(
      Effect.either,
      Effect.onInterrupt(() => run.tracer.end(span, "error", { code: "E_INTERRUPTED" }))
    )
    if (result._tag === "Left") {
      yield* run.tracer.end(span, "error", { code: result.left.code })
      return refused(result.left.code, result.left.reason)
    }
    yield* run.tracer.end(span, "ok")
    return { _tag: "HandoffResult", output: result.right } satisfies ReplyBody
  })

/**
 * Audits a refusal the worker made on its own (stale revocation view, a chain that no longer verifies).
 * The chain is re-verified only to attribute the record; a chain that fails is recorded with no actors.
 */
const recordLocalDeny = (
  run: TaskRun,
  agent: string,
  leafJti: string,
  parentSpan: string,
  chain: ReadonlyArray<string>,
  body: Extract<CallBody, { _tag: "LocalDeny" }>
) =>
  Effect.gen(function* () {
    const authorizer = yield* Authorizer
    const verified = yield* verifyCall(run, chain, agent, leafJti).pipe(Effect.option)
    const claims = verified._tag === "Some" ? verified.value.claims : []
    const judge = decider(run, claims, agent, parentSpan)
    if (body.record !== undefined) {
      // IP-01: a result withheld in the worker for a record of another tenant: token tenant vs record tenant.
      const r = Guards.auditableRecord(body.record)
      const detail = `result record of tenant ${r.tenant} withheld from tenant ${run.tenant}`
      return yield* judge(
        { action: "AccessRecord", resource: `${r.tenant}/${r.type}/${r.id}`, name: `${r.type} ${r.id}` },
        Guards.gateVerdict(
          "E_TENANT_MISMATCH",
          "runtime.result-tenant",
          detail,
          authorizer.versionOf(run.tenant)
        )
      ).pipe(Effect.ignoreLogged)
    }
    yield* judge(
      { action: "InvokeTool", resource: `${run.tenant}/Tool/${body.tool}`, name: body.tool },
      localDeny(body.code, "worker.local-check", authorizer.versionOf(run.tenant))
    ).pipe(Effect.ignoreLogged)
  })

type Services =
  | RuntimeConfig
  | Authorizer
  | TokenService
  | KeyRing
  | RevocationList
  | Credentials
  | import("@cordon/store/AuditLog").AuditLog
  | import("@cordon/store/Jobs").Jobs
  | UpstreamGuards

/**
 * Runs `agent` on the tenant's worker with `chain` (root first; the leaf, whose id is `leafJti`, is the agent's own token) and
 * answers its calls. Succeeds with the agent's encoded output; fails with the run's stable-coded failure.
 */
export const runAgentOn = (
  run: TaskRun,
  agent: string,
  input: unknown,
  chain: ReadonlyArray<string>,
  leafJti: string,
  parentSpan: string
): Effect.Effect<unknown, RemoteFailure, Services> =>
  Effect.gen(function* () {
    const span = yield* run.tracer.start("agent", agent, parentSpan, {})
    let output: { value: unknown } | undefined
    // Tool spans this run opened: the worker may close only these (never another run's or tenant's span).
    const { breakers } = yield* UpstreamGuards
    const toolSpans = new Map<string, string>()
    const closeToolSpan = (spanId: string, close: Effect.Effect<void>) =>
      toolSpans.delete(spanId) ? close : Effect.void
    const answer = (callId: string, body: ReplyBody, tool = "") => {
      if (body._tag === "Allowed") toolSpans.set(body.spanId, tool)
      return run.worker.executeEffect(new Reply({ callId, body })).pipe(Effect.ignore)
    }
    const onEvent = (event: AgentEvent): Effect.Effect<void, RemoteFailure, Services> => {
      if (event._tag === "Output") {
        output = { value: event.output }
        return Effect.void
      }
      const body = event.body
      switch (body._tag) {
        case "Note":
          return Effect.asVoid(run.tracer.event("agent", "note", span, "ok", { message: body.message }))
        case "LocalDeny":
          return Effect.zipRight(
            body.spanId === null
              ? Effect.void
              : closeToolSpan(body.spanId, run.tracer.end(body.spanId, "deny", { code: body.code })),
            recordLocalDeny(run, agent, leafJti, span, event.chain, body)
          )
        case "ToolDone": {
          // The tool's outcome feeds its circuit breaker (CF-03); only spans this run opened count.
          const tool = toolSpans.get(body.spanId)
          if (tool !== undefined) {
            breakers.record(run.tenant, tool, body.ok, performance.now())
          }
          return closeToolSpan(
            body.spanId,
            run.tracer.end(body.spanId, body.ok ? "ok" : "error", {
              durationMs: body.durationMs,
              code: body.code
            })
          )
        }
        case "Authorize":
          return authorizeTool(run, agent, leafJti, span, event.chain, body).pipe(
            Effect.catchAll((e) => Effect.succeed(refused(e.code, e.reason))),
            Effect.flatMap((reply) => answer(event.callId, reply, body.tool))
          )
        case "Schedule":
          return scheduleJob(run, agent, leafJti, span, event.chain, body).pipe(
            Effect.catchAll((e) => Effect.succeed(refused(e.code, e.reason))),
            Effect.flatMap((reply) => answer(event.callId, reply))
          )
        case "Handoff":
          return handoff(run, agent, leafJti, span, event.chain, body).pipe(
            Effect.catchAll((e) => Effect.succeed(refused(e.code, e.reason))),
            Effect.flatMap((reply) => answer(event.callId, reply))
          )
      }
    }
    const exit = yield* run.worker
      .executeEach(new RunAgent({ runId: `r${++runCounter}`, agent, input, chain: [...chain] }), onEvent, {
        session: run.session,
        intent: run.intent.name,
        agent
      })
      .pipe(
        Effect.mapError((e) =>
          e instanceof RemoteFailure
            ? e
            : // Worker faults keep their stable code (E_WORKER_CRASHED, E_RESOURCE_LIMIT, E_MESSAGE_INTEGRITY).
              "code" in e
              ? new RemoteFailure({ code: e.code, reason: e.reason })
              : new RemoteFailure({ code: "E_WORKER_FAILED", reason: "tenant worker failed" })
        ),
        Effect.onInterrupt(() => run.tracer.end(span, "error", { code: "E_INTERRUPTED" })),
        Effect.exit
      )
    if (Exit.isSuccess(exit)) {
      if (output !== undefined) {
        yield* run.tracer.end(span, "ok")
        return output.value
      }
      yield* run.tracer.end(span, "error", { code: "E_NO_OUTPUT" })
      return yield* new RemoteFailure({ code: "E_NO_OUTPUT", reason: "agent ended without output" })
    }
    const failure = Cause.failureOption(exit.cause)
    yield* run.tracer.end(span, "error", {
      code: failure._tag === "Some" ? failure.value.code : "E_INTERRUPTED"
    })
    return yield* Effect.failCause(exit.cause)
  })
