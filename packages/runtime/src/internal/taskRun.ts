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
import * as Stream from "effect/Stream"
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
import { recordDecision } from "./auditing.js"
import { Credentials } from "@cordon/store/Credentials"
import { agentUri } from "./paths.js"
import type { Tracer } from "./tracing.js"

/** Everything fixed for one task while it runs. */
export interface TaskRun {
  readonly tenant: string
  readonly session: string
  readonly user: string
  readonly txn: string
  readonly intent: Intent
  readonly team: Team
  readonly worker: TenantWorker
  readonly tracer: Tracer
  /** The task's scope: credentials minted for the task are released (revoked) when it closes. */
  readonly scope: Scope.Scope
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
export const bindCredential = (run: TaskRun, claims: TaskClaims, agent: string) =>
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
type Verdict = Omit<PolicyDecision, "code"> & { readonly code: string | null }

const refused = (code: string, reason: string): ReplyBody => ({ _tag: "Refused", code, reason })

/** Principal of a policy request: the agent holding the leaf token. */
const principalOf = (run: TaskRun, config: { trustDomain: string }, agent: string) => ({
  tenant: run.tenant,
  agent,
  spiffeId: agentUri(config.trustDomain, run.tenant, agent),
  handoffs: run.team.agents.get(agent)?.handoffs ?? []
})

const contextOf = (run: TaskRun, chain: ReadonlyArray<TaskClaims>) => ({
  tenant: run.tenant,
  session: run.session,
  intent: { name: run.intent.name, tools: run.intent.tools, agents: run.intent.agents },
  depth: chain[chain.length - 1]?.dep ?? 0,
  actors: chain.map((c) => c.sub),
  now: Math.floor(Date.now() / 1000)
})

/**
 * Decides, audits and traces steps of one call (its run, verified chain, agent and trace parent). A deny
 * (from a local rule or from Cedar) is recorded and traced and returned for the caller to refuse with its
 * stable code; the audit append failing fails the call closed (`E_AUDIT_UNAVAILABLE`).
 */
export const decider =
  (run: TaskRun, chain: ReadonlyArray<TaskClaims>, agent: string, parentSpan: string) =>
  (step: { action: string; resource: string; name: string }, decision: Verdict) =>
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
        reason:
          decision.decision === "allow"
            ? "allowed"
            : (decision.errors[0] ?? decision.determiningPolicies.join(",")) || "denied",
        policyVersion: decision.policyVersion
      }).pipe(
        // Fail closed: a decision that cannot be recorded is not acted on.
        Effect.mapError(
          () => new RemoteFailure({ code: "E_AUDIT_UNAVAILABLE", reason: "audit log unavailable" })
        )
      )
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
const localDeny = (code: string, rule: string, policyVersion: string): Verdict => ({
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
const verifyAudited = (
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
        )(step, localDeny(e.code, "broker.chain-verification", authorizer.policyVersion))
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
    const version = authorizer.policyVersion
    if (tool === undefined || !declared) {
      yield* judge(step, localDeny("E_TOOL_NOT_ALLOWED", "broker.tool-declared", version))
      return refused("E_TOOL_NOT_ALLOWED", `tool ${body.tool} is not available to ${agent}`)
    }
    const held = new Set(verified.leaf.scp)
    if (!tool.scopes.every((s) => held.has(s))) {
      yield* judge(step, localDeny("E_TOOL_NOT_ALLOWED", "broker.tool-scope", version))
      return refused("E_TOOL_NOT_ALLOWED", `token lacks the scopes of ${body.tool}`)
    }
    const principal = principalOf(run, config, agent)
    const context = contextOf(run, claims)
    const toolDecision = yield* judge(
      step,
      yield* authorizer.authorize({
        principal,
        action: "InvokeTool",
        resource: { type: "Tool", tenant: run.tenant, name: body.tool },
        context
      })
    )
    if (toolDecision.decision === "deny")
      return refused(toolDecision.code ?? "E_POLICY_DENY", `${body.tool} denied`)
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
    const spanId = yield* run.tracer.start("tool", body.tool, parentSpan, { scopes: tool.scopes })
    return { _tag: "Allowed", spanId } satisfies ReplyBody
  })

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
    const target = run.team.agents.get(body.agent)
    if (target === undefined) {
      yield* judge(step, localDeny("E_HANDOFF_DENIED", "broker.agent-known", authorizer.policyVersion))
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
    yield* decider(
      run,
      claims,
      agent,
      parentSpan
    )(
      { action: "InvokeTool", resource: `${run.tenant}/Tool/${body.tool}`, name: body.tool },
      localDeny(body.code, "worker.local-check", authorizer.policyVersion)
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
    const toolSpans = new Set<string>()
    const closeToolSpan = (spanId: string, close: Effect.Effect<void>) =>
      toolSpans.delete(spanId) ? close : Effect.void
    const answer = (callId: string, body: ReplyBody) => {
      if (body._tag === "Allowed") toolSpans.add(body.spanId)
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
        case "ToolDone":
          return closeToolSpan(
            body.spanId,
            run.tracer.end(body.spanId, body.ok ? "ok" : "error", {
              durationMs: body.durationMs,
              code: body.code
            })
          )
        case "Authorize":
          return authorizeTool(run, agent, leafJti, span, event.chain, body).pipe(
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
      .execute(new RunAgent({ runId: `r${++runCounter}`, agent, input, chain: [...chain] }))
      .pipe(
        Stream.mapError((e) =>
          e instanceof RemoteFailure
            ? e
            : new RemoteFailure({ code: "E_WORKER_FAILED", reason: "tenant worker failed" })
        ),
        Stream.runForEach(onEvent),
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
