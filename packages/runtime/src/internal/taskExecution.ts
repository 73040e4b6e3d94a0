/**
 * One attempt at one task, inside its own scope: open the session cache on the tenant's worker, decide
 * `StartTask`, mint the root credential (bound to the scope: revoked on any exit), run the root agent.
 * The attempt is bounded by the task deadline (`taskTimeoutMs`, Effect's monotonic clock).
 *
 * @module
 */
import { Authorizer } from "@cordon/policy/Authorizer"
import { TokenService } from "@cordon/identity/TokenService"
import type { Session, Task } from "@cordon/store/Model"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { QuotaExceeded, WorkerUnavailable } from "../Errors.js"
import { OpenSession, RemoteFailure } from "../Protocol.js"
import { Revocations } from "../Revocations.js"
import { RuntimeConfig } from "../RuntimeConfig.js"
import { TeamRegistry } from "../TeamRegistry.js"
import { TenantWorkerPool } from "../TenantWorkerPool.js"
import { recordLifecycle } from "./auditing.js"
import { TaskCounters } from "./upstreamGuards.js"
import {
  bindCredential,
  contextOf,
  decider,
  principalOf,
  runAgentOn,
  type TaskRun,
  tokenSummary
} from "./taskRun.js"
import { makeTracer } from "./tracing.js"

/**
 * Whether a failed attempt means "the worker died under the task" (crash, out of memory, terminated),
 * not "the task failed". An oversized message (`E_RESOURCE_LIMIT`, reason `message_size`) is a refusal.
 */
export const isCrash = (failure: { readonly code: string; readonly reason: string }): boolean =>
  failure.code === "E_WORKER_CRASHED" ||
  failure.code === "E_WORKER_FAILED" ||
  (failure.code === "E_RESOURCE_LIMIT" && failure.reason !== "message_size")

/**
 * Runs one attempt of `task` in `session`, with `dataKey` the session cache key. Succeeds with the root
 * agent's output; fails with `RemoteFailure` carrying a stable code (a deny, a tool failure,
 * `E_TASK_TIMEOUT`, `E_WORKER_UNAVAILABLE`, or one of {@link CrashCodes}).
 */
export const executeTask = (task: Task, session: Session, dataKey: string) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const team = yield* TeamRegistry
    const pool = yield* TenantWorkerPool
    const tokens = yield* TokenService
    const revocations = yield* Revocations
    const authorizer = yield* Authorizer
    const tracer = yield* makeTracer(task.tenant, task.id)
    const intent = team.intents.get(task.intent)
    if (intent === undefined) {
      return yield* new RemoteFailure({ code: "E_UNKNOWN_INTENT", reason: "intent no longer defined" })
    }
    const rootSpan = yield* tracer.start("task", `${task.agent} · ${task.intent}`, null, {
      session: task.session,
      user: session.userId,
      attempt: task.attempts
    })
    let revokedCount = 0
    const attempt = Effect.scoped(
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        const worker = yield* pool.get(task.tenant)
        yield* worker
          .executeEffect(new OpenSession({ session: task.session, dataKey }))
          .pipe(
            Effect.mapError(
              () => new RemoteFailure({ code: "E_CACHE", reason: "session cache could not open" })
            )
          )
        const run: TaskRun = {
          tenant: task.tenant,
          session: task.session,
          sessionExpiresAt: session.expiresAt,
          user: session.userId,
          txn: task.id,
          intent,
          team,
          worker,
          tracer,
          scope,
          counters: new TaskCounters(),
          revoke: (minted, reason) =>
            Effect.zipRight(
              Effect.zipRight(
                Effect.sync(() => {
                  revokedCount += minted.length
                }),
                revocations.revokeIds(task.tenant, minted, reason)
              ),
              Effect.asVoid(
                tracer.event(
                  "revocation",
                  `revoke ${minted.map((t) => t.jti.slice(0, 8)).join(",")}`,
                  rootSpan,
                  "ok",
                  { reason }
                )
              )
            )
        }
        const startDecision = yield* authorizer.authorize({
          principal: principalOf(run, config, task.agent),
          action: "StartTask",
          resource: { type: "Session", tenant: session.tenant, id: session.id },
          context: contextOf(run, [])
        })
        yield* decider(
          run,
          [],
          task.agent,
          rootSpan
        )(
          { action: "StartTask", resource: `${session.tenant}/Session/${session.id}`, name: session.id },
          startDecision
        )
        if (startDecision.decision === "deny") {
          return yield* new RemoteFailure({
            code: startDecision.code ?? "E_POLICY_DENY",
            reason: "task start denied"
          })
        }
        const minted = yield* tokens
          .mintRoot({
            tenant: task.tenant,
            session: task.session,
            user: session.userId,
            txn: task.id,
            agent: task.agent,
            intent: intent.name,
            // The least the root needs: the intent's scopes the root agent may hold at all.
            scopes: intent.scopes.filter(
              (scope) => team.agents.get(task.agent)?.scopes.includes(scope) === true
            ),
            ttlSeconds: config.tokenTtlSec,
            notAfter: Math.floor(session.expiresAt / 1000),
            trustDomain: config.trustDomain
          })
          .pipe(Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: e.reason })))
        yield* bindCredential(run, minted.claims, task.agent).pipe(Effect.orDie)
        yield* tracer.event(
          "handoff",
          `mint root → ${task.agent}`,
          rootSpan,
          "ok",
          tokenSummary(minted.claims)
        )
        return yield* runAgentOn(run, task.agent, task.input, [minted.token], minted.claims.jti, rootSpan)
      })
    ).pipe(
      // A deadline that passes while the agent never yields terminates the tenant's worker (RE-01).
      (effect) => pool.withDeadline(task.tenant, config.taskTimeoutMs, effect),
      Effect.catchTags({
        TaskTimeout: () =>
          Effect.fail(new RemoteFailure({ code: "E_TASK_TIMEOUT", reason: "task deadline exceeded" })),
        WorkerUnavailable: (e: WorkerUnavailable) =>
          Effect.fail(new RemoteFailure({ code: e.code, reason: e.reason })),
        QuotaExceeded: (e: QuotaExceeded) =>
          Effect.fail(new RemoteFailure({ code: e.code, reason: `worker ${e.reason} limit reached` }))
      }),
      // Whatever ends the attempt ends every span still open under it (a tool call, a handoff). The broker
      // stops waiting for them, it does not know how they ended: a tool handler already running in the
      // worker may still complete its side effect, hence `outcome: "unknown"`.
      Effect.tapErrorCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.void
          : tracer.endOpen("error", {
              code: Option.match(Cause.failureOption(cause), {
                onNone: () => "E_INTERNAL",
                onSome: (e) => e.code
              }),
              outcome: "unknown"
            })
      ),
      Effect.onInterrupt(() => tracer.endOpen("error", { code: "E_CANCELLED", outcome: "unknown" }))
    )
    // The task's scope has closed by now, whatever the exit: record what its teardown revoked (OR-01).
    const teardown = Effect.suspend(() =>
      recordLifecycle({
        tenant: task.tenant,
        session: task.session,
        action: "task.teardown",
        resource: `${task.tenant}/Task/${task.id}`,
        reason: JSON.stringify({ attempt: task.attempts, revoked: revokedCount })
      })
    ).pipe(Effect.ignoreLogged)
    const output = yield* attempt.pipe(Effect.ensuring(teardown))
    yield* tracer.end(rootSpan, "ok")
    yield* tracer.endOpen("error", { code: "E_UNFINISHED", outcome: "unknown" })
    return output
  })
