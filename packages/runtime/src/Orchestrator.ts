/**
 * The broker's front door: opens and ends sessions, accepts tasks into the durable queue, runs them
 * fairly on the tenants' workers, and answers queries — always for the caller's tenant only.
 *
 * Every task is a row of the `tasks` table before it is acknowledged; the in-memory `FairQueue` is only
 * the dispatch order and is rebuilt from the table at boot. A task runs in its own scope (one
 * `FiberMap` entry): every credential it mints is bound to that scope and revoked on any exit, before
 * its final status is written. A worker crash sends an idempotent agent's task back to the queue until it
 * has crashed `maxTaskCrashes` workers (then it is dead-lettered); any other task fails with the crash
 * code. After a restart, tasks found `running` are treated as caught in a crash and queued tasks run.
 * The ledger always balances: `submitted = succeeded + failed + cancelled + dead_lettered + in flight`.
 */
import { sessionCacheFiles, sessionCachePath } from "@cordon/cache/CachePath"
import type { KeyRing } from "@cordon/identity/KeyRing"
import type { RevocationList } from "@cordon/identity/RevocationList"
import type { TokenService } from "@cordon/identity/TokenService"
import { Authorizer } from "@cordon/policy/Authorizer"
import type { AuditLog } from "@cordon/store/AuditLog"
import type { Credentials } from "@cordon/store/Credentials"
import { Jobs } from "@cordon/store/Jobs"
import type { Session, Task, TaskLedger, TraceEvent } from "@cordon/store/Model"
import { Sessions } from "@cordon/store/Sessions"
import { Tasks } from "@cordon/store/Tasks"
import { Tenants } from "@cordon/store/Tenants"
import { TraceStore } from "@cordon/store/TraceStore"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import {
  InvalidRequest,
  NotFound,
  QuotaExceeded,
  SessionClosed,
  TenantSuspended,
  type WorkerUnavailable
} from "./Errors.js"
import { FairQueue } from "./FairQueue.js"
import { recordLifecycle } from "./internal/auditing.js"
import { tenantDirOf } from "./internal/paths.js"
import { executeTask, isCrash } from "./internal/taskExecution.js"
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

/** What a tenant suspension did (also the summary audit record's reason). */
export interface SuspensionSummary {
  readonly tenant: string
  readonly cancelledTasks: number
  readonly cancelledJobs: number
  readonly revokedCredentials: number
  readonly endedSessions: number
}

export interface OrchestratorApi {
  /** Opens a session for the caller; `ttlSec` defaults to the configured session lifetime. */
  readonly openSession: (caller: Caller, ttlSec?: number) => Effect.Effect<Session, TenantSuspended>
  readonly getSession: (caller: Caller, id: string) => Effect.Effect<Session, NotFound>
  /**
   * Ends a session: cancels its pending jobs and its queued and running tasks (their credentials are
   * revoked as their scopes close), revokes what is left of its credentials, shreds its cache file (with
   * `-wal`/`-shm`), forgets its data key and marks it ended. Idempotent.
   */
  readonly endSession: (caller: Caller, id: string) => Effect.Effect<Session, NotFound>
  /**
   * Accepts a task into the durable queue. Fails with `InvalidRequest` (unknown agent or intent, or the
   * agent does not accept the intent), `NotFound` (no such session for this caller), `SessionClosed`,
   * `TenantSuspended`, or `QuotaExceeded` (reason `queue`: the tenant's queue is full); nothing is
   * written then.
   */
  readonly submit: (
    caller: Caller,
    request: SubmitRequest
  ) => Effect.Effect<Task, InvalidRequest | NotFound | SessionClosed | TenantSuspended | QuotaExceeded>
  /**
   * Cancels a task: a queued one never runs, a running one is interrupted (its credentials revoked).
   * Ends `cancelled` with `E_CANCELLED`; a task already finished is returned unchanged. Idempotent.
   */
  readonly cancel: (caller: Caller, id: string) => Effect.Effect<Task, NotFound>
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
  ) => Effect.Effect<ReadonlyArray<number>, NotFound | WorkerUnavailable | QuotaExceeded | RemoteFailure>
  /**
   * Operator kill switch (OR-03): stops the tenant's new work (`E_TENANT_SUSPENDED`), cancels its queued
   * and running tasks and pending jobs, revokes every credential (`tenant_offboarded`), stops its worker,
   * ends its sessions and shreds their caches, and writes one `tenant.suspend` audit record. With
   * `purge`, the tenant's whole data directory is deleted too (offboarding). Idempotent.
   */
  readonly suspendTenant: (
    tenant: string,
    options?: { readonly purge?: boolean }
  ) => Effect.Effect<SuspensionSummary>
  /** Lets a suspended tenant work again (new sessions and tasks); nothing cancelled comes back. */
  readonly resumeTenant: (tenant: string) => Effect.Effect<void>
  /** The task ledger, of one tenant or of all. */
  readonly ledger: (tenant?: string) => Effect.Effect<TaskLedger>
  /** Waits until no task is queued or running (for orderly shutdown and the demo). */
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
export const newId = (prefix: string) => `${prefix}-${randomBytes(16).toString("hex")}`

/** Why a running task is being interrupted, when it is not a plain cancel. */
interface StopReason {
  readonly code: string
  readonly message: string
}

export const make = Effect.gen(function* () {
  const config = yield* RuntimeConfig
  const team = yield* TeamRegistry
  const pool = yield* TenantWorkerPool
  const revocations = yield* Revocations
  const tenants = yield* Tenants
  const sessions = yield* Sessions
  const tasks = yield* Tasks
  const jobs = yield* Jobs
  const traces = yield* TraceStore
  const authorizer = yield* Authorizer
  const context = yield* Effect.context<
    | RuntimeConfig
    | TeamRegistry
    | TenantWorkerPool
    | Revocations
    | Authorizer
    | TokenService
    | KeyRing
    | RevocationList
    | Credentials
    | AuditLog
    | TraceStore
    | Jobs
  >()
  const fibers = yield* FiberMap.make<string, void, never>()
  const queue = new FairQueue({
    tenantConcurrency: config.tenantConcurrency,
    maxRunning: config.maxRunning,
    tenantQueueLimit: config.tenantQueueLimit
  })
  /** Queued and running tasks, by id (the rows as last written). */
  const inFlight = new Map<string, Task>()
  /** Tasks being interrupted for a reason other than a caller's cancel. */
  const stopReasons = new Map<string, StopReason>()
  const idle = new Set<() => void>()
  const lifecycle = (e: Parameters<typeof recordLifecycle>[0]) =>
    recordLifecycle(e).pipe(Effect.provide(context), Effect.asVoid)
  const wake = yield* Queue.sliding<void>(1)
  const signal = Queue.offer(wake, undefined)

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
  for (const t of yield* tenants.listByStatus("suspended").pipe(Effect.orDie)) {
    authorizer.setTenantStatus(t.id, "suspended")
  }

  /** Whether `tenant` is suspended (an unknown tenant is not). */
  const isSuspended = (tenant: string) =>
    tenants.get(tenant).pipe(
      Effect.orDie,
      Effect.map((t) => Option.isSome(t) && t.value.status === "suspended")
    )

  const requireActiveTenant = (tenant: string) =>
    Effect.flatMap(isSuspended(tenant), (suspended) =>
      suspended ? Effect.fail(new TenantSuspended({ code: "E_TENANT_SUSPENDED", tenant })) : Effect.void
    )

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

  const notifyIfIdle = () => {
    if (inFlight.size > 0) return
    for (const resolve of idle) resolve()
    idle.clear()
  }

  /** Writes a terminal status; the task leaves the in-memory queue view. */
  const finish = (
    id: string,
    outcome:
      | { readonly status: "succeeded"; readonly output: unknown }
      | {
          readonly status: "failed" | "cancelled" | "dead_lettered"
          readonly errorCode: string
          readonly errorMessage: string
        }
  ) =>
    tasks.complete(id, outcome).pipe(
      Effect.ignoreLogged,
      Effect.ensuring(
        Effect.sync(() => {
          inFlight.delete(id)
          stopReasons.delete(id)
          notifyIfIdle()
        })
      )
    )

  /** Puts an accepted task in the dispatch order (beyond the tenant's queue limit only when `force`). */
  const enqueue = (task: Task, force: boolean) => {
    if (!queue.enqueue(task.tenant, task.id, { force })) return false
    inFlight.set(task.id, task)
    return true
  }

  /** A crashed attempt: retry an idempotent agent's task, dead-letter a poison pill, fail the rest. */
  const afterCrash = (task: Task, code: string, message: string) =>
    Effect.gen(function* () {
      const crashes = task.crashes + 1
      const idempotent = team.agents.get(task.agent)?.idempotent === true
      if (idempotent && crashes < config.maxTaskCrashes) {
        const requeued = yield* tasks.requeue(task.id, code, message).pipe(Effect.orElseSucceed(() => false))
        if (requeued) {
          enqueue({ ...task, status: "queued", crashes }, true)
          return
        }
      }
      if (idempotent) {
        yield* finish(task.id, {
          status: "dead_lettered",
          errorCode: code,
          errorMessage: `dead-lettered after ${crashes} worker crashes: ${message}`
        })
        yield* lifecycle({
          tenant: task.tenant,
          session: task.session,
          action: "task.dead_letter",
          resource: `${task.tenant}/Task/${task.id}`,
          reason: JSON.stringify({ crashes, code }),
          errorCode: code
        }).pipe(Effect.ignoreLogged)
        return
      }
      yield* finish(task.id, { status: "failed", errorCode: code, errorMessage: message })
    })

  /** Runs one dispatched task to its next state. */
  const runOne = (id: string) =>
    Effect.gen(function* () {
      const task = inFlight.get(id)
      if (task === undefined) return
      const started = yield* tasks.markRunning(id).pipe(Effect.orElseSucceed(() => false))
      if (!started) {
        inFlight.delete(id)
        return notifyIfIdle()
      }
      const running: Task = { ...task, status: "running", attempts: task.attempts + 1 }
      inFlight.set(id, running)
      if (yield* isSuspended(task.tenant)) {
        return yield* finish(id, {
          status: "cancelled",
          errorCode: "E_TENANT_SUSPENDED",
          errorMessage: "tenant suspended"
        })
      }
      const session = yield* sessions.get(task.tenant, task.session).pipe(Effect.orDie)
      if (
        Option.isNone(session) ||
        session.value.status !== "open" ||
        session.value.expiresAt <= Date.now()
      ) {
        return yield* finish(id, {
          status: "cancelled",
          errorCode: "E_SESSION_CLOSED",
          errorMessage: "session closed before the task ran"
        })
      }
      const outcome = yield* executeTask(running, session.value, dataKeyOf(task.tenant, task.session)).pipe(
        Effect.provide(context),
        Effect.exit
      )
      if (Exit.isSuccess(outcome)) return yield* finish(id, { status: "succeeded", output: outcome.value })
      const failure = Cause.failureOption(outcome.cause)
      if (Option.isSome(failure) && isCrash(failure.value)) {
        return yield* afterCrash(running, failure.value.code, failure.value.reason)
      }
      if (Option.isNone(failure)) yield* Effect.logError("task failed", outcome.cause)
      yield* finish(id, {
        status: "failed",
        errorCode: Option.isSome(failure) ? failure.value.code : "E_INTERNAL",
        errorMessage: Option.isSome(failure) ? failure.value.reason : "internal error"
      })
    }).pipe(
      Effect.onInterrupt(() => {
        const reason = stopReasons.get(id) ?? { code: "E_CANCELLED", message: "task cancelled" }
        return finish(id, { status: "cancelled", errorCode: reason.code, errorMessage: reason.message })
      })
    )

  // The dispatcher: whenever something changes, start every task the fair queue allows.
  yield* Effect.gen(function* () {
    while (true) {
      yield* Queue.take(wake)
      for (let pick = queue.next(); pick !== undefined; pick = queue.next()) {
        const { tenant, id } = pick
        const startedAt = performance.now()
        // Charge the tenant the worker time the task really used (cost units beyond the one it queued at).
        const charge = () =>
          queue.finished(
            tenant,
            Math.max(0, Math.ceil((performance.now() - startedAt) / config.schedulerCostUnitMs) - 1)
          )
        yield* FiberMap.run(
          fibers,
          id,
          runOne(id).pipe(Effect.ensuring(Effect.zipRight(Effect.sync(charge), signal)))
        )
      }
    }
  }).pipe(Effect.forkScoped)

  /**
   * Fires the background jobs that are due: each becomes a queued task of its session (minted a fresh
   * root token when it runs). A job whose session has closed, whose tenant is suspended or whose deadline
   * has passed expires instead (audited `job.expired`), so nothing scheduled outlives its session.
   */
  const fireDueJobs = Effect.gen(function* () {
    const now = Date.now()
    const due = yield* jobs.due(now, 64).pipe(Effect.orDie)
    for (const job of due) {
      const session = yield* sessions.get(job.tenant, job.session).pipe(Effect.orDie)
      const code = (yield* isSuspended(job.tenant))
        ? "E_TENANT_SUSPENDED"
        : Option.isNone(session) || session.value.status !== "open" || session.value.expiresAt <= now
          ? "E_SESSION_CLOSED"
          : now > job.deadline
            ? "E_JOB_DEADLINE_EXCEEDED"
            : null
      if (code !== null) {
        if (yield* jobs.expire(job.id, code).pipe(Effect.orDie)) {
          yield* lifecycle({
            tenant: job.tenant,
            session: job.session,
            action: "job.expired",
            resource: `${job.tenant}/Job/${job.id}`,
            reason: "the job can no longer run",
            errorCode: code
          }).pipe(Effect.ignoreLogged)
        }
        continue
      }
      const task = yield* tasks
        .create({
          id: newId("task"),
          tenant: job.tenant,
          session: job.session,
          agent: job.agent,
          intent: job.intent,
          input: job.input,
          job: job.id
        })
        .pipe(Effect.orDie)
      if (yield* jobs.markFired(job.id, task.id).pipe(Effect.orDie)) {
        enqueue(task, true)
        yield* lifecycle({
          tenant: job.tenant,
          session: job.session,
          action: "job.fired",
          resource: `${job.tenant}/Job/${job.id}`,
          reason: JSON.stringify({ task: task.id, generation: job.generation })
        }).pipe(Effect.ignoreLogged)
      } else {
        yield* tasks
          .complete(task.id, { status: "cancelled", errorCode: "E_CANCELLED", errorMessage: "job cancelled" })
          .pipe(Effect.ignoreLogged)
      }
    }
    if (due.length > 0) yield* signal
  })
  yield* fireDueJobs.pipe(
    Effect.catchAllCause((cause) => Effect.logError("job firing failed", cause)),
    Effect.repeat(Schedule.spaced(Duration.millis(100))),
    Effect.forkScoped
  )

  /** Cancels queued and running tasks among `ids` with `reason`; returns how many. */
  const stopTasks = (tenant: string, ids: ReadonlyArray<string>, reason: StopReason) =>
    Effect.gen(function* () {
      let n = 0
      // Queued ones first: interrupting a running task frees a slot the dispatcher would give them.
      const dequeued = ids.filter((id) => queue.remove(tenant, id))
      for (const id of dequeued) {
        n += 1
        yield* finish(id, { status: "cancelled", errorCode: reason.code, errorMessage: reason.message })
      }
      for (const id of ids) {
        if (dequeued.includes(id)) continue
        const fiber = yield* FiberMap.get(fibers, id).pipe(Effect.option)
        if (Option.isSome(fiber)) {
          n += 1
          stopReasons.set(id, reason)
          yield* FiberMap.remove(fibers, id)
        }
      }
      return n
    })

  // Recovery: tasks found running were caught in a crash of the broker itself; queued ones run.
  const orphaned = yield* tasks.listByStatus(["running"]).pipe(Effect.orDie)
  for (const task of orphaned) {
    yield* revocations.revoke(task.tenant, { task: task.id }, "task_complete")
    inFlight.set(task.id, task)
    yield* afterCrash(task, "E_WORKER_CRASHED", "broker restarted while the task ran")
    yield* lifecycle({
      tenant: task.tenant,
      session: task.session,
      action: "task.recover",
      resource: `${task.tenant}/Task/${task.id}`,
      reason: JSON.stringify({ attempts: task.attempts, crashes: task.crashes + 1 })
    }).pipe(Effect.ignoreLogged)
  }
  const queued = yield* tasks.listByStatus(["queued"]).pipe(Effect.orDie)
  for (const task of queued) if (!inFlight.has(task.id)) enqueue(task, true)
  yield* signal

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
      yield* requireActiveTenant(caller.tenant)
      const session = yield* requireSession(caller, request.session)
      if (session.status !== "open" || session.expiresAt <= Date.now()) {
        return yield* new SessionClosed({ code: "E_SESSION_CLOSED", session: session.id })
      }
      if (queue.queued(caller.tenant) >= config.tenantQueueLimit) {
        return yield* new QuotaExceeded({ code: "E_QUOTA_EXCEEDED", reason: "queue" })
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
      enqueue(task, true)
      yield* signal
      return task
    })

  /** Ends one session of `tenant` for `reason` (the caller has been checked). */
  const closeSession = (tenant: string, id: string, reason: StopReason) =>
    Effect.gen(function* () {
      const cancelledJobs = yield* jobs.cancelSession(tenant, id, reason.code).pipe(Effect.orDie)
      for (const job of cancelledJobs) {
        yield* lifecycle({
          tenant,
          session: id,
          action: "job.cancelled",
          resource: `${tenant}/Job/${job}`,
          reason: reason.message,
          errorCode: reason.code
        }).pipe(Effect.ignoreLogged)
      }
      const active = yield* tasks.activeInSession(tenant, id).pipe(Effect.orDie)
      const cancelledTasks = yield* stopTasks(tenant, active, reason)
      yield* revocations.revoke(tenant, { session: id }, "session_closed")
      yield* pool.ifLive(tenant, (w) => w.executeEffect(new EndSession({ session: id })))
      // The worker has closed and deleted the files; with no live worker nobody owns them, so make sure here.
      const file = sessionCachePath(config.dataDir, tenant, id)
      if (Either.isRight(file)) {
        yield* Effect.promise(() =>
          Promise.all(sessionCacheFiles(file.right).map((f) => fs.rm(f, { force: true })))
        )
      }
      sessionKeys.delete(`${tenant}/${id}`)
      yield* sessions.end(tenant, id).pipe(Effect.orDie)
      return { cancelledJobs: cancelledJobs.length, cancelledTasks }
    })

  const endSession: OrchestratorApi["endSession"] = (caller, id) =>
    Effect.gen(function* () {
      yield* requireSession(caller, id)
      yield* closeSession(caller.tenant, id, { code: "E_SESSION_CLOSED", message: "session ended" })
      return yield* requireSession(caller, id)
    })

  const cancel: OrchestratorApi["cancel"] = (caller, id) =>
    Effect.gen(function* () {
      const task = yield* requireTask(caller, id)
      if (task.status === "queued" || task.status === "running") {
        yield* stopTasks(caller.tenant, [id], { code: "E_CANCELLED", message: "cancelled by the caller" })
        const fiber = yield* FiberMap.get(fibers, id).pipe(Effect.option)
        if (Option.isSome(fiber)) yield* Fiber.await(fiber.value)
      }
      return yield* requireTask(caller, id)
    })

  const suspendTenant: OrchestratorApi["suspendTenant"] = (tenant, options = {}) =>
    Effect.gen(function* () {
      const reason: StopReason = { code: "E_TENANT_SUSPENDED", message: "tenant suspended" }
      yield* tenants.upsert({ id: tenant, name: tenant }).pipe(Effect.orDie)
      yield* tenants.setStatus(tenant, "suspended").pipe(Effect.orDie)
      // The platform `forbid` for suspended tenants now fires on any decision still in flight.
      authorizer.setTenantStatus(tenant, "suspended")
      const cancelledJobs = yield* jobs.cancelTenant(tenant, reason.code).pipe(Effect.orDie)
      const active = [...inFlight.values()].filter((t) => t.tenant === tenant).map((t) => t.id)
      const cancelledTasks = yield* stopTasks(tenant, active, reason)
      const open = yield* sessions.listOpen(tenant).pipe(Effect.orDie)
      for (const s of open) yield* closeSession(tenant, s.id, reason)
      const revoked = yield* revocations.revoke(tenant, {}, "tenant_offboarded")
      yield* pool.terminate(tenant)
      yield* Effect.promise(() =>
        fs.rm(
          options.purge === true
            ? tenantDirOf(config.dataDir, tenant)
            : path.join(tenantDirOf(config.dataDir, tenant), "sessions"),
          { recursive: true, force: true }
        )
      )
      const summary: SuspensionSummary = {
        tenant,
        cancelledTasks,
        cancelledJobs: cancelledJobs.length,
        revokedCredentials: revoked.length,
        endedSessions: open.length
      }
      yield* lifecycle({
        tenant,
        session: null,
        action: options.purge === true ? "tenant.offboard" : "tenant.suspend",
        resource: `${tenant}/Tenant/${tenant}`,
        reason: JSON.stringify(summary)
      }).pipe(Effect.orDie)
      return summary
    })

  return Orchestrator.of({
    openSession: (caller, ttlSec) =>
      Effect.gen(function* () {
        yield* requireActiveTenant(caller.tenant)
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
    cancel,
    await: (caller, id) =>
      Effect.gen(function* () {
        yield* requireTask(caller, id)
        // A task may be queued, run, crash and be queued again: wait until it is no longer in flight.
        while (inFlight.has(id)) {
          const fiber = yield* FiberMap.get(fibers, id).pipe(Effect.option)
          if (Option.isSome(fiber)) yield* Fiber.await(fiber.value)
          else yield* Effect.sleep(Duration.millis(20))
        }
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
    suspendTenant,
    resumeTenant: (tenant) =>
      tenants
        .setStatus(tenant, "active")
        .pipe(Effect.orDie, Effect.zipRight(Effect.sync(() => authorizer.setTenantStatus(tenant, "active")))),
    ledger: (tenant) => tasks.ledger(tenant).pipe(Effect.orDie),
    drain: Effect.async<void>((resume) => {
      if (inFlight.size === 0) return resume(Effect.void)
      const done = () => resume(Effect.void)
      idle.add(done)
      return Effect.sync(() => idle.delete(done))
    })
  })
})

export const layer = Layer.scoped(Orchestrator, make)
