/**
 * The broker's front door: opens and ends sessions, accepts tasks, runs each task in its own scope on the
 * tenant's worker, and answers queries — always for the caller's tenant only. Every credential a task mints
 * is bound to the task's scope and revoked when the task ends, before its final status is written.
 */
import { Authorizer } from "@cordon/policy/Authorizer"
import type { KeyRing } from "@cordon/identity/KeyRing"
import type { RevocationList } from "@cordon/identity/RevocationList"
import { TokenService } from "@cordon/identity/TokenService"
import { sessionCacheFiles, sessionCachePath } from "@cordon/cache/CachePath"
import type { AuditLog } from "@cordon/store/AuditLog"
import type { Credentials } from "@cordon/store/Credentials"
import type { Session, Task, TraceEvent } from "@cordon/store/Model"
import { Sessions } from "@cordon/store/Sessions"
import { Tasks } from "@cordon/store/Tasks"
import { Tenants } from "@cordon/store/Tenants"
import { TraceStore } from "@cordon/store/TraceStore"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Cause from "effect/Cause"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { InvalidRequest, NotFound, SessionClosed, type WorkerUnavailable } from "./Errors.js"
import { agentUri } from "./internal/paths.js"
import { bindCredential, decider, runAgentOn, type TaskRun, tokenSummary } from "./internal/taskRun.js"
import { makeTracer } from "./internal/tracing.js"
import { EndSession, OpenSession, RemoteFailure, ScanSession } from "./Protocol.js"
import { Revocations } from "./Revocations.js"
import { RuntimeConfig } from "./RuntimeConfig.js"
import { TeamRegistry } from "./TeamRegistry.js"
import { TenantWorkerPool } from "./TenantWorkerPool.js"

/** The authenticated caller (from a verified caller token; never from a request body). */
export interface Caller {
  readonly tenant: string
  readonly user: string
}

export interface SubmitRequest {
  readonly session: string
  readonly agent: string
  readonly intent: string
  readonly input: unknown
}

export interface OrchestratorApi {
  /** Opens a session for the caller; `ttlSec` defaults to the configured session lifetime. */
  readonly openSession: (caller: Caller, ttlSec?: number) => Effect.Effect<Session>
  readonly getSession: (caller: Caller, id: string) => Effect.Effect<Session, NotFound>
  /**
   * Ends a session: interrupts its running tasks (their credentials are revoked as their scopes close),
   * shreds its cache file (with `-wal`/`-shm`) and marks it ended. Idempotent.
   */
  readonly endSession: (caller: Caller, id: string) => Effect.Effect<Session, NotFound>
  /**
   * Accepts a task. Fails with `InvalidRequest` (unknown agent or intent, or the agent does not accept the
   * intent), `NotFound` (no such session for this tenant) or `SessionClosed`; nothing is written then.
   */
  readonly submit: (
    caller: Caller,
    request: SubmitRequest
  ) => Effect.Effect<Task, InvalidRequest | NotFound | SessionClosed>
  /** Waits for a task of the caller's tenant to finish and returns it. */
  readonly await: (caller: Caller, id: string) => Effect.Effect<Task, NotFound>
  readonly getTask: (caller: Caller, id: string) => Effect.Effect<Task, NotFound>
  /** The task and its delegation trace (spans in start order). */
  readonly getTrace: (
    caller: Caller,
    id: string
  ) => Effect.Effect<{ task: Task; events: ReadonlyArray<TraceEvent> }, NotFound>
  /**
   * Leak probe: how often each needle occurs in the session's decrypted cache (counts only, never content).
   * For operators and tests; the session must be open.
   */
  readonly scanSessionCache: (
    caller: Caller,
    session: string,
    needles: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<number>, NotFound | WorkerUnavailable | RemoteFailure>
  /** Waits until no task is running (for orderly shutdown and the demo). */
  readonly drain: Effect.Effect<void>
}

/** Deletes every session cache file (with `-wal`/`-shm`) under each `<dataDir>/tenants/<tenant>/sessions`. */
const shredLeftoverCaches = async (dataDir: string) => {
  const tenantsDir = path.join(dataDir, "tenants")
  const tenants = await fs.readdir(tenantsDir).catch(() => [])
  await Promise.all(
    tenants.map((tenant) =>
      fs
        .rm(path.join(tenantsDir, tenant, "sessions"), { recursive: true, force: true })
        .catch(() => undefined)
    )
  )
}

export class Orchestrator extends Context.Tag("@cordon/runtime/Orchestrator")<
  Orchestrator,
  OrchestratorApi
>() {}

/** `<prefix>-<128 random bits in hex>`: unguessable, and a valid identifier (lower-case, ≤ 63). */
const newId = (prefix: string) => `${prefix}-${randomBytes(16).toString("hex")}`

export const make = Effect.gen(function* () {
  const config = yield* RuntimeConfig
  const team = yield* TeamRegistry
  const pool = yield* TenantWorkerPool
  const tokens = yield* TokenService
  const revocations = yield* Revocations
  const authorizer = yield* Authorizer
  const tenants = yield* Tenants
  const sessions = yield* Sessions
  const tasks = yield* Tasks
  const traces = yield* TraceStore
  const context = yield* Effect.context<
    RuntimeConfig | Authorizer | TokenService | KeyRing | RevocationList | Credentials | AuditLog | TraceStore
  >()
  const fibers = yield* FiberMap.make<string, void, never>()
  // Session data keys (AES-256) by `<tenant>/<session>`: in memory only, forgotten when the session ends.
  // After a restart they are gone, so every leftover session cache file is unreadable: shred them now.
  const sessionKeys = new Map<string, string>()
  const dataKeyOf = (tenant: string, session: string) => {
    const id = `${tenant}/${session}`
    let key = sessionKeys.get(id)
    if (key === undefined) {
      key = randomBytes(32).toString("base64url")
      sessionKeys.set(id, key)
    }
    return key
  }
  yield* Effect.promise(() => shredLeftoverCaches(config.dataDir))
  const taskSession = new Map<string, string>()
  const semaphores = new Map<string, Effect.Semaphore>()
  const semaphoreOf = (tenant: string) => {
    let s = semaphores.get(tenant)
    if (s === undefined) {
      s = Effect.unsafeMakeSemaphore(config.tenantConcurrency)
      semaphores.set(tenant, s)
    }
    return s
  }

  /**
   * A session is the caller's only if it belongs to the caller's tenant AND user: another user's session,
   * even in the same tenant, is not found (sessions bind tenant + user).
   */
  const requireSession = (caller: Caller, id: string) =>
    sessions.get(caller.tenant, id).pipe(
      Effect.orDie,
      Effect.flatMap((found) =>
        Option.isSome(found) && found.value.userId === caller.user
          ? Effect.succeed(found.value)
          : Effect.fail(new NotFound({ code: "E_NOT_FOUND", resource: "session", id }))
      )
    )

  /** A task is the caller's only if its session is (same tenant and user). */
  const requireTask = (caller: Caller, id: string) =>
    tasks.get(caller.tenant, id).pipe(
      Effect.orDie,
      Effect.flatMap((found) =>
        Option.isSome(found)
          ? requireSession(caller, found.value.session).pipe(Effect.as(found.value))
          : Effect.fail(new NotFound({ code: "E_NOT_FOUND", resource: "task", id }))
      ),
      Effect.mapError(() => new NotFound({ code: "E_NOT_FOUND", resource: "task", id }))
    )

  /** Runs one task inside its own scope; returns its outcome for the ledger. */
  const execute = (task: Task, session: Session) =>
    Effect.gen(function* () {
      const tracer = yield* makeTracer(task.tenant, task.id).pipe(Effect.provide(context))
      const intent = team.intents.get(task.intent)!
      const rootSpan = yield* tracer.start("task", `${task.agent} · ${task.intent}`, null, {
        session: task.session,
        user: session.userId
      })
      const outcome = yield* Effect.scoped(
        Effect.gen(function* () {
          const scope = yield* Effect.scope
          const worker = yield* pool.get(task.tenant)
          yield* worker
            .executeEffect(
              new OpenSession({ session: task.session, dataKey: dataKeyOf(task.tenant, task.session) })
            )
            .pipe(
              Effect.mapError(
                () => new RemoteFailure({ code: "E_CACHE", reason: "session cache could not open" })
              )
            )
          const run: TaskRun = {
            tenant: task.tenant,
            session: task.session,
            user: session.userId,
            txn: task.id,
            intent,
            team,
            worker,
            tracer,
            scope,
            revoke: (tokens, reason) =>
              Effect.zipRight(
                revocations.revokeIds(task.tenant, tokens, reason),
                Effect.asVoid(
                  tracer.event(
                    "revocation",
                    `revoke ${tokens.map((t) => t.jti.slice(0, 8)).join(",")}`,
                    rootSpan,
                    "ok",
                    { reason }
                  )
                )
              )
          }
          const startDecision = yield* authorizer.authorize({
            principal: {
              tenant: task.tenant,
              agent: task.agent,
              spiffeId: agentUri(config.trustDomain, task.tenant, task.agent),
              handoffs: team.agents.get(task.agent)?.handoffs ?? []
            },
            action: "StartTask",
            resource: { type: "Session", tenant: session.tenant, id: session.id },
            context: {
              tenant: task.tenant,
              session: task.session,
              intent: { name: intent.name, tools: intent.tools, agents: intent.agents },
              depth: 0,
              actors: [],
              now: Math.floor(Date.now() / 1000)
            }
          })
          yield* decider(
            run,
            [],
            task.agent,
            rootSpan
          )(
            { action: "StartTask", resource: `${session.tenant}/Session/${session.id}`, name: session.id },
            startDecision
          ).pipe(Effect.provide(context))
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
              scopes: intent.scopes,
              ttlSeconds: config.tokenTtlSec,
              notAfter: Math.floor(session.expiresAt / 1000),
              trustDomain: config.trustDomain
            })
            .pipe(Effect.mapError((e) => new RemoteFailure({ code: e.code, reason: e.reason })))
          yield* bindCredential(run, minted.claims, task.agent).pipe(Effect.provide(context), Effect.orDie)
          yield* tracer.event(
            "handoff",
            `mint root → ${task.agent}`,
            rootSpan,
            "ok",
            tokenSummary(minted.claims)
          )
          return yield* runAgentOn(
            run,
            task.agent,
            task.input,
            [minted.token],
            minted.claims.jti,
            rootSpan
          ).pipe(Effect.provide(context))
        })
      ).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(config.taskTimeoutMs),
          onTimeout: () => new RemoteFailure({ code: "E_TASK_TIMEOUT", reason: "task deadline exceeded" })
        }),
        Effect.catchTag("WorkerUnavailable", (e: WorkerUnavailable) =>
          Effect.fail(new RemoteFailure({ code: e.code, reason: e.reason }))
        ),
        Effect.exit
      )
      if (Exit.isSuccess(outcome)) {
        yield* tracer.end(rootSpan, "ok")
        yield* tasks
          .complete(task.id, { status: "succeeded", output: outcome.value })
          .pipe(Effect.ignoreLogged)
        return
      }
      const failure = Cause.failureOption(outcome.cause)
      const interrupted = Cause.isInterruptedOnly(outcome.cause)
      const code = Option.isSome(failure) ? failure.value.code : interrupted ? "E_CANCELLED" : "E_INTERNAL"
      const message = Option.isSome(failure)
        ? failure.value.reason
        : interrupted
          ? "task cancelled"
          : "internal error"
      if (!interrupted && Option.isNone(failure)) yield* Effect.logError("task failed", outcome.cause)
      yield* tracer.end(rootSpan, "error", { code })
      yield* tasks
        .complete(task.id, {
          status: interrupted ? "cancelled" : "failed",
          errorCode: code,
          errorMessage: message
        })
        .pipe(Effect.ignoreLogged)
    }).pipe(
      Effect.onInterrupt(() =>
        tasks
          .complete(task.id, {
            status: "cancelled",
            errorCode: "E_CANCELLED",
            errorMessage: "task cancelled"
          })
          .pipe(Effect.ignoreLogged)
      )
    )

  const submit: OrchestratorApi["submit"] = (caller, request) =>
    Effect.gen(function* () {
      const agent = team.agents.get(request.agent)
      if (agent === undefined) {
        return yield* new InvalidRequest({
          code: "E_UNKNOWN_AGENT",
          reason: `no agent named ${request.agent}`
        })
      }
      const intent = team.intents.get(request.intent)
      if (intent === undefined) {
        return yield* new InvalidRequest({
          code: "E_UNKNOWN_INTENT",
          reason: `no intent named ${request.intent}`
        })
      }
      if (!agent.intents.includes(intent.name) || !intent.agents.includes(agent.name)) {
        return yield* new InvalidRequest({
          code: "E_INTENT_MISMATCH",
          reason: `agent ${agent.name} does not accept intent ${intent.name}`
        })
      }
      const session = yield* requireSession(caller, request.session)
      if (session.status !== "open" || session.expiresAt <= Date.now()) {
        return yield* new SessionClosed({ code: "E_SESSION_CLOSED", session: session.id })
      }
      const task = yield* tasks
        .create({
          id: newId("task"),
          tenant: caller.tenant,
          session: session.id,
          agent: agent.name,
          intent: intent.name,
          input: request.input
        })
        .pipe(Effect.orDie)
      taskSession.set(task.id, session.id)
      yield* FiberMap.run(
        fibers,
        task.id,
        semaphoreOf(caller.tenant)
          .withPermits(1)(
            Effect.zipRight(tasks.markRunning(task.id).pipe(Effect.ignoreLogged), execute(task, session))
          )
          .pipe(Effect.ensuring(Effect.sync(() => taskSession.delete(task.id))))
      )
      return task
    })

  const endSession: OrchestratorApi["endSession"] = (caller, id) =>
    Effect.gen(function* () {
      yield* requireSession(caller, id)
      const running = [...taskSession.entries()].filter(([, s]) => s === id).map(([t]) => t)
      yield* Effect.forEach(running, (t) => FiberMap.remove(fibers, t), { discard: true })
      yield* revocations.revoke(caller.tenant, { session: id }, "session_closed")
      yield* pool.ifLive(caller.tenant, (w) => w.executeEffect(new EndSession({ session: id })))
      // The worker has closed and deleted the files; with no live worker nobody owns them, so make sure here.
      const path = sessionCachePath(config.dataDir, caller.tenant, id)
      if (Either.isRight(path)) {
        yield* Effect.promise(() =>
          Promise.all(sessionCacheFiles(path.right).map((f) => fs.rm(f, { force: true })))
        )
      }
      sessionKeys.delete(`${caller.tenant}/${id}`)
      yield* sessions.end(caller.tenant, id).pipe(Effect.orDie)
      return yield* requireSession(caller, id)
    })

  return Orchestrator.of({
    openSession: (caller, ttlSec) =>
      Effect.gen(function* () {
        yield* tenants.upsert({ id: caller.tenant, name: caller.tenant }).pipe(Effect.orDie)
        return yield* sessions
          .create({
            id: newId("s"),
            tenant: caller.tenant,
            userId: caller.user,
            expiresAt: Date.now() + (ttlSec ?? config.sessionTtlSec) * 1000
          })
          .pipe(Effect.orDie)
      }),
    getSession: requireSession,
    endSession,
    submit,
    await: (caller, id) =>
      Effect.gen(function* () {
        yield* requireTask(caller, id)
        const fiber = yield* FiberMap.get(fibers, id).pipe(Effect.option)
        if (Option.isSome(fiber)) yield* Fiber.await(fiber.value)
        return yield* requireTask(caller, id)
      }),
    getTask: requireTask,
    getTrace: (caller, id) =>
      Effect.gen(function* () {
        const task = yield* requireTask(caller, id)
        const events = yield* traces.list(caller.tenant, id).pipe(Effect.orDie)
        return { task, events }
      }),
    scanSessionCache: (caller, id, needles) =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* requireSession(caller, id)
          const worker = yield* pool.get(caller.tenant)
          yield* worker
            .executeEffect(new OpenSession({ session: id, dataKey: dataKeyOf(caller.tenant, id) }))
            .pipe(
              Effect.mapError(
                () => new RemoteFailure({ code: "E_CACHE", reason: "session cache could not open" })
              )
            )
          return yield* worker
            .executeEffect(new ScanSession({ session: id, needles: [...needles] }))
            .pipe(
              Effect.mapError((e) =>
                e instanceof RemoteFailure
                  ? e
                  : new RemoteFailure({ code: "E_WORKER_FAILED", reason: "scan failed" })
              )
            )
        })
      ),
    drain: FiberMap.awaitEmpty(fibers)
  })
})

export const layer = Layer.scoped(Orchestrator, make)
