/**
 * `cordon chaos`: the execution layer under faults. One broker, the demo's mail team (plus a CPU-runaway
 * agent), 21 tenants of real mail:
 *
 * 1. **baseline** — the victim tenant runs `victimTasks` tasks (closed loop, `victimConcurrency` in
 *    flight) while 18 ordinary tenants work through half of their inboxes; the victim's submit-to-end
 *    latencies give `baselineP95Ms`;
 * 2. **chaos** — the same again (the other half of the inboxes) while the noisy neighbours join: one
 *    tenant floods the queue with `floodTasks` tasks at once, one runs CPU-runaway tasks that only their
 *    deadline stops, and a killer terminates a random busy worker (never the victim's) every
 *    `killEveryMs`; the victim's latencies give `victimP95Ms`.
 *
 * Afterwards every session is ended and the report counts outcomes from the durable ledger: `lost` is
 * any task the driver submitted that is not in a final state (or not in the store at all).
 *
 * @module
 */
import { chaosTeam, prepareDemo, type SessionPlan } from "@cordon/examples"
import { Orchestrator, type Caller } from "@cordon/runtime/Orchestrator"
import { TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { AuditLog } from "@cordon/store/AuditLog"
import { Credentials } from "@cordon/store/Credentials"
import { Tasks } from "@cordon/store/Tasks"
import { Duration, Effect, Fiber, Layer, Option } from "effect"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import { brokerLayer } from "./Broker.js"

export interface ChaosOptions {
  readonly dataDir: string
  /** Ordinary tenants besides the victim, the flooder and the runaway (default 18). */
  readonly tenants?: number
  /** Messages (tasks) per ordinary tenant (default 100). */
  readonly perTenant?: number
  readonly victimTasks?: number
  readonly victimConcurrency?: number
  readonly floodTasks?: number
  readonly runawayTasks?: number
  readonly killEveryMs?: number
  readonly taskTimeoutMs?: number
  readonly seed?: number
  readonly onProgress?: (line: string) => void
}

export interface ChaosReport {
  readonly tasks: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  readonly deadLettered: number
  readonly lost: number
  readonly liveCredentialsAfterRun: number
  readonly workerKills: number
  /** Tasks that were running on a worker when it was killed (retried or failed). */
  readonly tasksSeeingKill: number
  readonly runawayTimeouts: number
  readonly victimP95Ms: number
  readonly baselineP95Ms: number
  readonly victimP95Ratio: number
  readonly auditChainValid: boolean
  readonly tenants: number
  readonly elapsedMs: number
}

const p95 = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0
}

const chaosWorkerEntry = () => createRequire(import.meta.url).resolve("@cordon/examples/chaos-worker")

/** Runs the chaos scenario in `dataDir` (wiped first) and returns its report. */
export const runChaos = (options: ChaosOptions) =>
  Effect.gen(function* () {
    const started = Date.now()
    const log = options.onProgress ?? (() => {})
    const ordinary = options.tenants ?? 18
    const perTenant = options.perTenant ?? 100
    const victimTasks = options.victimTasks ?? 40
    const victimConcurrency = options.victimConcurrency ?? 2
    const tenantIds = [
      "victim",
      "flooder",
      "runaway",
      ...Array.from({ length: ordinary }, (_, i) => `t${String(i).padStart(2, "0")}`)
    ]
    yield* Effect.promise(() => fs.rm(options.dataDir, { recursive: true, force: true }))
    yield* Effect.promise(() => fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 }))
    log(`preparing ${tenantIds.length} tenants' inboxes`)
    const prepared = yield* Effect.promise(() =>
      prepareDemo(options.dataDir, {
        tenants: tenantIds,
        perTenant: Math.max(perTenant, victimTasks * 2),
        sessionsPerTenant: 1,
        trainSize: 1000,
        seed: options.seed ?? 7
      })
    )
    const plans = new Map<string, SessionPlan>(prepared.sessions.map((s) => [s.tenant, s]))
    const broker = brokerLayer({
      dataDir: options.dataDir,
      team: chaosTeam,
      workerEntry: chaosWorkerEntry(),
      config: {
        settings: { spamModel: prepared.modelPath },
        taskTimeoutMs: options.taskTimeoutMs ?? 5_000,
        tenantConcurrency: 2,
        // Room for every tenant's worker and tasks: the run measures isolation, not a shortage of slots.
        maxRunning: 24,
        maxWorkers: 24
      }
    })
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(broker)
        const orchestrator = yield* Effect.provide(Orchestrator, context)
        const pool = yield* Effect.provide(TenantWorkerPool, context)
        const submitted: Array<{ caller: Caller; id: string }> = []
        const sessionOf = new Map<string, string>()
        const callerOf = (tenant: string): Caller => ({ tenant, user: `user-${tenant}` })
        for (const tenant of tenantIds) {
          const session = yield* orchestrator.openSession(callerOf(tenant), 6 * 3600)
          sessionOf.set(tenant, session.id)
        }
        const mailTask = (tenant: string, index: number) => {
          const plan = plans.get(tenant) as SessionPlan
          const message = plan.messages[index % plan.messages.length]
          return {
            session: sessionOf.get(tenant) as string,
            agent: "triage",
            intent: "mail.process",
            input: {
              messageId: message?.id,
              from: message?.from,
              subject: message?.subject,
              text: message?.text
            }
          }
        }
        /** Submits and waits; returns the latency in ms. Submission refusals are counted as submitted-not-accepted. */
        const runOne = (tenant: string, request: ReturnType<typeof mailTask>) =>
          Effect.gen(function* () {
            const caller = callerOf(tenant)
            const t0 = performance.now()
            const task = yield* orchestrator.submit(caller, request)
            submitted.push({ caller, id: task.id })
            yield* orchestrator.await(caller, task.id)
            return performance.now() - t0
          })
        const victimRun = (offset: number) =>
          Effect.forEach(
            Array.from({ length: victimTasks }, (_, i) => offset + i),
            (i) => runOne("victim", mailTask("victim", i)),
            { concurrency: victimConcurrency }
          )
        /** The ordinary tenants' share of one phase: `count` messages each from `offset`, one at a time. */
        const ordinaryRun = (offset: number, count: number) =>
          Effect.forEach(
            tenantIds.slice(3),
            (tenant) =>
              Effect.forEach(
                Array.from({ length: count }, (_, i) => offset + i),
                (i) => runOne(tenant, mailTask(tenant, i)),
                { concurrency: 1, discard: true }
              ),
            { concurrency: "unbounded", discard: true }
          )
        const half = Math.ceil(perTenant / 2)

        // Warm-up (not measured): one task per tenant, so both phases see live workers.
        log("warm-up: one task per tenant")
        yield* Effect.forEach(
          tenantIds.filter((t) => t !== "runaway"),
          (tenant) => runOne(tenant, mailTask(tenant, 0)),
          {
            concurrency: "unbounded",
            discard: true
          }
        )

        log("phase 1: the victim among ordinary tenants")
        const background1 = yield* ordinaryRun(0, half).pipe(Effect.fork)
        const baseline = yield* victimRun(0)
        yield* Fiber.join(background1)

        log("phase 2: the same, plus a queue flood, a CPU runaway and worker kills")
        let workerKills = 0
        const killer = yield* Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep(Duration.millis(options.killEveryMs ?? 250))
            const live = (yield* pool.live).filter((t) => t !== "victim" && t !== "runaway")
            const busy: Array<string> = []
            for (const tenant of live) if ((yield* orchestrator.ledger(tenant)).running > 0) busy.push(tenant)
            const target = busy[Math.floor(Math.random() * busy.length)]
            if (target !== undefined && (yield* pool.terminate(target))) workerKills += 1
          }
        }).pipe(Effect.fork)
        const progress = yield* Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep(Duration.seconds(10))
            const l = yield* orchestrator.ledger()
            log(
              `${l.submitted} submitted: ${l.queued} queued, ${l.running} running, ${l.succeeded} succeeded, ` +
                `${l.failed} failed, ${l.deadLettered} dead-lettered; ${workerKills} worker kills`
            )
          }
        }).pipe(Effect.fork)
        const flood = yield* Effect.forEach(
          Array.from({ length: options.floodTasks ?? 300 }, (_, i) => i),
          (i) =>
            orchestrator
              .submit(callerOf("flooder"), mailTask("flooder", i))
              .pipe(
                Effect.tap((task) =>
                  Effect.sync(() => submitted.push({ caller: callerOf("flooder"), id: task.id }))
                )
              ),
          { discard: true }
        ).pipe(Effect.fork)
        const runawayTasks = yield* Effect.forEach(
          Array.from({ length: options.runawayTasks ?? 6 }, (_, i) => i),
          () =>
            orchestrator
              .submit(callerOf("runaway"), {
                session: sessionOf.get("runaway") as string,
                agent: "runaway",
                intent: "ops.runaway",
                input: {}
              })
              .pipe(
                Effect.tap((task) =>
                  Effect.sync(() => submitted.push({ caller: callerOf("runaway"), id: task.id }))
                )
              ),
          { concurrency: 1 }
        )
        const background2 = yield* ordinaryRun(half, perTenant - half).pipe(Effect.fork)
        const victim = yield* victimRun(victimTasks)
        yield* Fiber.join(background2)
        yield* Fiber.join(flood)
        yield* Fiber.interrupt(killer)
        yield* Fiber.interrupt(progress)
        for (const task of runawayTasks) yield* orchestrator.await(callerOf("runaway"), task.id)
        yield* orchestrator.drain
        for (const tenant of tenantIds)
          yield* orchestrator.endSession(callerOf(tenant), sessionOf.get(tenant) as string)

        log("counting")
        const tasks = yield* Effect.provide(Tasks, context)
        let lost = 0
        let tasksSeeingKill = 0
        let runawayTimeouts = 0
        const counts = { succeeded: 0, failed: 0, cancelled: 0, deadLettered: 0 }
        for (const { caller, id } of submitted) {
          const row = yield* tasks.get(caller.tenant, id).pipe(Effect.orDie)
          if (Option.isNone(row)) {
            lost += 1
            continue
          }
          const t = row.value
          if (t.crashes > 0 || t.errorCode === "E_WORKER_CRASHED") tasksSeeingKill += 1
          if (t.errorCode === "E_TASK_TIMEOUT") runawayTimeouts += 1
          if (t.status === "succeeded") counts.succeeded += 1
          else if (t.status === "failed") counts.failed += 1
          else if (t.status === "cancelled") counts.cancelled += 1
          else if (t.status === "dead_lettered") counts.deadLettered += 1
          else lost += 1
        }
        const credentials = yield* Effect.provide(Credentials, context)
        const audit = yield* Effect.provide(AuditLog, context)
        const victimP95Ms = Math.round(p95(victim))
        const baselineP95Ms = Math.round(p95(baseline))
        const report: ChaosReport = {
          tasks: submitted.length,
          ...counts,
          lost,
          liveCredentialsAfterRun: yield* credentials.liveCount(Math.floor(Date.now() / 1000)),
          workerKills,
          tasksSeeingKill,
          runawayTimeouts,
          victimP95Ms,
          baselineP95Ms,
          victimP95Ratio: baselineP95Ms === 0 ? 0 : Math.round((victimP95Ms / baselineP95Ms) * 100) / 100,
          auditChainValid: (yield* audit.verify()).valid,
          tenants: tenantIds.length,
          elapsedMs: Date.now() - started
        }
        return report
      })
    )
  })
