/**
 * One worker thread per active tenant, spawned on demand and never handed to another tenant. Each worker is
 * started with an empty `env`, V8 heap `resourceLimits`, no inherited `execArgv`, only its own tenant's
 * public keys, and must become ready (runner up, booted, readiness `Ping` answered) within `workerStartMs`
 * or its callers fail with `E_WORKER_UNAVAILABLE` — never hang. At most `maxWorkers` threads live at once:
 * a tenant that needs one takes the slot of the least recently used idle worker, or waits (`spawnWaitMs`)
 * and then fails with `E_QUOTA_EXCEEDED` (reason `spawn`). Idle workers stop after `workerIdleMs`.
 *
 * A worker that dies (crash, `process.exit()`, heap limit, termination) fails only its own in-flight calls,
 * with a typed fault saying why (`E_WORKER_CRASHED` + cause, or `E_RESOURCE_LIMIT` `heap`); the tenant's
 * next `get` boots a fresh thread. A call abandoned on a worker (deadline, cancellation) is followed by a
 * probe: a worker that does not answer within `workerProbeMs` is stuck in a loop and is terminated.
 * Messages the worker sends that break the protocol are refused, fail their call and are audited
 * (`E_MESSAGE_INTEGRITY`, `E_RESOURCE_LIMIT`).
 *
 * An entry built by `scripts/bundle-worker.mjs` is read once per pool (a rebuilt bundle is picked up by the
 * next pool) and every worker compiles it from a V8 code cache made once per pool, at the first spawn, by
 * one short-lived extra thread that never serves a tenant and is not counted in `maxWorkers` (see
 * `internal/codeCache.ts`); workers spawned before the cache exists compile the bundle themselves. Any other
 * entry is started as a plain module file.
 */
import { Authorizer } from "@cordon/policy/Authorizer"
import { AuditLog } from "@cordon/store/AuditLog"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { createHash } from "node:crypto"
import { QuotaExceeded, WorkerUnavailable } from "./Errors.js"
import { agentUri } from "./internal/paths.js"
import { type CallSurface, type Channel, open, type Violation } from "./internal/workerChannel.js"
import * as CodeCache from "./internal/codeCache.js"
import { InitialMessage, Ping, publicJwks } from "./Protocol.js"
import { RuntimeConfig } from "./RuntimeConfig.js"
import { TaskTimeout, type WorkerExitCause } from "./WorkerFaults.js"

export type { CallLabel } from "./internal/workerChannel.js"

/**
 * A tenant's worker as held by a caller: `execute` (stream requests) and `executeEffect`, each with an
 * optional audit label. Calls fail with the request's own failure or a `WorkerFault`.
 */
export interface TenantWorker extends CallSurface {
  readonly tenant: string
  /** Counts the tenant's workers: a replacement after a crash has a higher generation. */
  readonly generation: number
  /** The `worker_threads` thread id (distinct for every thread the process ever starts). */
  readonly threadId: number
}

/** What the pool needs from the broker to boot a tenant's worker. */
export interface TenantBoot {
  readonly issuer: string
  readonly jwks: { readonly keys: ReadonlyArray<unknown> }
  readonly revoked: ReadonlyArray<string>
}

/** A worker thread that ended, with why and how many calls it failed. */
export interface WorkerExit {
  readonly tenant: string
  readonly generation: number
  readonly threadId: number
  readonly cause: WorkerExitCause
  readonly inFlight: number
}

/** Counters since the pool started. */
export interface PoolStats {
  readonly live: number
  readonly spawned: number
  readonly exits: Readonly<Partial<Record<WorkerExitCause, number>>>
  /** Worker messages refused (`E_MESSAGE_INTEGRITY` / `E_RESOURCE_LIMIT`). */
  readonly refusedMessages: number
}

export interface TenantWorkerPoolApi {
  /**
   * The tenant's worker (spawned if needed), held for the caller's scope (a held worker is never evicted).
   * Fails with `WorkerUnavailable` when it cannot start within `workerStartMs`, and with `QuotaExceeded`
   * (reason `spawn`) when no slot frees up within `spawnWaitMs`.
   */
  readonly get: (
    tenant: string
  ) => Effect.Effect<TenantWorker, WorkerUnavailable | QuotaExceeded, Scope.Scope>
  /** Runs `f` on the tenant's worker only if one is live; never spawns one; failures are ignored. */
  readonly ifLive: <A>(
    tenant: string,
    f: (worker: TenantWorker) => Effect.Effect<A, unknown>
  ) => Effect.Effect<void>
  /** Tenants with a live (ready) worker. */
  readonly live: Effect.Effect<ReadonlyArray<string>>
  /** Worker threads alive now, starting and closing ones included (never above `maxWorkers`). */
  readonly liveCount: Effect.Effect<number>
  /**
   * Kills the tenant's worker now (`worker.terminate()`); its in-flight calls fail with `WorkerCrashed`
   * (`E_WORKER_CRASHED`, reason `terminated`). Waits for the thread to exit; `false` when none was live.
   */
  readonly terminate: (tenant: string) => Effect.Effect<boolean>
  /**
   * Runs `effect` (work of `tenant`) with a deadline of `ms` milliseconds. Past it the effect is interrupted
   * and the tenant's worker must answer a probe within `workerProbeMs`; if it does not (a CPU loop that
   * never yields) it is terminated (exit cause `deadline`), failing only that tenant's in-flight calls.
   * Fails with `TaskTimeout` (`E_TASK_TIMEOUT`) after the probe has settled.
   */
  readonly withDeadline: <A, E, R>(
    tenant: string,
    ms: number,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TaskTimeout, R>
  /** Every worker exit from now on (crash, OOM, termination, eviction...), for as long as the scope lives. */
  readonly exits: Effect.Effect<Queue.Dequeue<WorkerExit>, never, Scope.Scope>
  readonly stats: Effect.Effect<PoolStats>
}

export class TenantWorkerPool extends Context.Tag("@cordon/runtime/TenantWorkerPool")<
  TenantWorkerPool,
  TenantWorkerPoolApi
>() {}

interface Slot {
  readonly tenant: string
  readonly generation: number
  state: "starting" | "ready" | "closing" | "dead"
  refs: number
  lastUsed: number
  channel: Channel | undefined
  worker: TenantWorker | undefined
  readonly started: Deferred.Deferred<void, WorkerUnavailable>
  probing: Deferred.Deferred<void> | undefined
  deadlineHit: boolean
}

type Step =
  | { readonly _tag: "use"; readonly slot: Slot }
  | { readonly _tag: "starting"; readonly slot: Slot }
  | { readonly _tag: "evicting"; readonly slot: Slot }
  | { readonly _tag: "full"; readonly signal: Deferred.Deferred<void> }

const CLOSE_GRACE_MS = 500

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/**
 * Builds the pool. `boot(tenant)` supplies the tenant's issuer, public JWKS and already-revoked token ids.
 * Refused worker messages are appended to the `AuditLog` when one is in the context.
 */
export const make = <R>(boot: (tenant: string) => Effect.Effect<TenantBoot, never, R>) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const bootContext = yield* Effect.context<R>()
    const audit = yield* Effect.serviceOption(AuditLog)
    const authorizer = yield* Effect.serviceOption(Authorizer)
    const run = yield* FiberSet.makeRuntime<never>()
    const exitsHub = yield* PubSub.unbounded<WorkerExit>()
    const current = new Map<string, Slot>()
    const occupying = new Set<Slot>()
    const generations = new Map<string, number>()
    const exitCounts: Partial<Record<WorkerExitCause, number>> = {}
    let spawned = 0
    let refused = 0
    let changed = Deferred.unsafeMake<void>(FiberId.none)
    const notify = () => {
      Deferred.unsafeDone(changed, Exit.void)
      changed = Deferred.unsafeMake<void>(FiberId.none)
    }

    const record = (tenant: string, v: Violation) =>
      Effect.gen(function* () {
        refused++
        if (Option.isNone(audit)) return
        yield* audit.value.append({
          ts: Date.now(),
          tenant,
          session: v.label?.session ?? null,
          workload:
            v.label?.agent === undefined
              ? `spiffe://${config.trustDomain}/tenant/${tenant}/worker`
              : agentUri(config.trustDomain, tenant, v.label.agent),
          intent: v.label?.intent ?? "",
          actorChainHash: sha256(""),
          chainDepth: 0,
          action: "WorkerMessage",
          resource: `${tenant}/Worker/${v.request ?? "unknown"}`,
          decision: "deny",
          errorCode: v.code,
          reason: v.reason,
          policyVersion: Option.isSome(authorizer) ? authorizer.value.policyVersion : "none",
          jtiHash: ""
        })
      }).pipe(Effect.ignoreLogged)

    const onExit = (slot: Slot, cause: WorkerExitCause, inFlight: number) => {
      slot.state = "dead"
      occupying.delete(slot)
      if (current.get(slot.tenant) === slot) current.delete(slot.tenant)
      exitCounts[cause] = (exitCounts[cause] ?? 0) + 1
      exitsHub.unsafeOffer({
        tenant: slot.tenant,
        generation: slot.generation,
        threadId: slot.channel?.threadId ?? -1,
        cause,
        inFlight
      })
      notify()
    }

    /** Probes a worker after an abandoned call; terminates it when it does not answer in time. */
    const probe = (slot: Slot): Deferred.Deferred<void> => {
      if (slot.probing !== undefined) return slot.probing
      const done = Deferred.unsafeMake<void>(FiberId.none)
      slot.probing = done
      const channel = slot.channel
      run(
        Effect.gen(function* () {
          if (channel === undefined || !channel.alive()) return
          const answered = yield* channel
            .executeEffect(new Ping())
            .pipe(Effect.timeout(Duration.millis(config.workerProbeMs)), Effect.isSuccess)
          if (!answered && channel.alive()) {
            yield* channel.terminate(slot.deadlineHit ? "deadline" : "unresponsive")
          }
        }).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              slot.probing = undefined
              Deferred.unsafeDone(done, Exit.void)
            })
          )
        )
      )
      return done
    }

    // A bundle built by scripts/bundle-worker.mjs starts from a V8 code cache, made once (codeCache.ts).
    const scriptOf = CodeCache.forEntry(
      config.workerEntry,
      {
        resourceLimits: config.workerResourceLimits,
        maxMessageBytes: config.maxMessageBytes,
        trustDomain: config.trustDomain,
        maxDepth: config.maxDepth,
        clockToleranceSec: config.clockToleranceSec,
        revocationStaleMs: config.revocationStaleMs,
        timeoutMs: 2 * config.workerStartMs
      },
      run
    )

    const startFailed = (slot: Slot, reason: string) => {
      const error = new WorkerUnavailable({ code: "E_WORKER_UNAVAILABLE", reason })
      if (slot.channel === undefined) {
        // No thread was created: free the reserved slot here.
        slot.state = "dead"
        occupying.delete(slot)
        if (current.get(slot.tenant) === slot) current.delete(slot.tenant)
        notify()
      }
      Deferred.unsafeDone(slot.started, Exit.fail(error))
    }

    /** Boots the slot's thread; runs in the pool's scope, so a caller giving up does not abort it. */
    const start = (slot: Slot) =>
      Effect.gen(function* () {
        // The thread starts first: the tenant's boot data is read while it loads.
        const channel = open({
          entry: config.workerEntry,
          script: scriptOf(),
          name: `cordon-tenant-${slot.tenant}`,
          resourceLimits: config.workerResourceLimits,
          maxMessageBytes: config.maxMessageBytes,
          onViolation: (v, then) => run(Effect.ensuring(record(slot.tenant, v), Effect.sync(then))),
          onExit: (cause, inFlight) => onExit(slot, cause, inFlight),
          onAbandon: () => {
            probe(slot)
          }
        })
        slot.channel = channel
        spawned++
        const worker: TenantWorker = {
          tenant: slot.tenant,
          generation: slot.generation,
          threadId: channel.threadId,
          execute: channel.execute,
          executeEffect: channel.executeEffect,
          executeEach: channel.executeEach
        }
        slot.worker = worker
        const b = yield* Effect.provide(boot(slot.tenant), bootContext)
        // The boot request is posted at once (the thread queues it until its runner listens), so the thread
        // boots as soon as it is up; it must still report its runner up, booted, then answer the ping.
        const booting = yield* channel
          .executeEffect(
            new InitialMessage({
              tenant: slot.tenant,
              trustDomain: config.trustDomain,
              issuer: b.issuer,
              jwks: publicJwks(b.jwks),
              dataDir: config.dataDir,
              maxDepth: config.maxDepth,
              clockToleranceSec: config.clockToleranceSec,
              revoked: [...b.revoked],
              revocationStaleMs: config.revocationStaleMs,
              maxMessageBytes: config.maxMessageBytes,
              settings: { ...config.settings }
            })
          )
          .pipe(
            Effect.mapError(() => "worker boot failed"),
            Effect.fork
          )
        yield* channel.ready.pipe(Effect.mapError(() => "worker exited while starting"))
        yield* Fiber.join(booting)
        yield* channel
          .executeEffect(new Ping())
          .pipe(Effect.mapError(() => "worker did not answer its readiness ping"))
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(config.workerStartMs),
          onTimeout: () => "worker not ready in time"
        }),
        Effect.catchAllDefect(() => Effect.fail("worker failed to start")),
        Effect.matchEffect({
          onFailure: (reason) =>
            Effect.zipRight(
              slot.channel === undefined ? Effect.void : slot.channel.terminate("start_failed"),
              Effect.sync(() => startFailed(slot, reason))
            ),
          onSuccess: () =>
            Effect.sync(() => {
              if (slot.state !== "starting") {
                startFailed(slot, "worker stopped while starting")
                return
              }
              slot.state = "ready"
              slot.lastUsed = performance.now()
              Deferred.unsafeDone(slot.started, Exit.void)
            })
        })
      )

    /** Stops a slot's thread gracefully (used for idle, eviction and shutdown). */
    const retire = (slot: Slot, cause: WorkerExitCause) => {
      slot.state = "closing"
      if (current.get(slot.tenant) === slot) current.delete(slot.tenant)
      const channel = slot.channel
      if (channel !== undefined) run(channel.close(cause, CLOSE_GRACE_MS))
    }

    /** One synchronous decision: reuse, wait for a start, evict the LRU idle worker, or report full. */
    const decide = (tenant: string): Step => {
      const slot = current.get(tenant)
      if (slot?.state === "ready") {
        slot.refs++
        slot.lastUsed = performance.now()
        return { _tag: "use", slot }
      }
      if (slot?.state === "starting") return { _tag: "starting", slot }
      if (occupying.size >= config.maxWorkers) {
        let victim: Slot | undefined
        for (const s of current.values()) {
          if (s.state === "ready" && s.refs === 0 && (victim === undefined || s.lastUsed < victim.lastUsed)) {
            victim = s
          }
        }
        if (victim === undefined) return { _tag: "full", signal: changed }
        retire(victim, "evicted")
        return { _tag: "evicting", slot: victim }
      }
      const generation = (generations.get(tenant) ?? 0) + 1
      generations.set(tenant, generation)
      const fresh: Slot = {
        tenant,
        generation,
        state: "starting",
        refs: 0,
        lastUsed: performance.now(),
        channel: undefined,
        worker: undefined,
        started: Deferred.unsafeMake<void, WorkerUnavailable>(FiberId.none),
        probing: undefined,
        deadlineHit: false
      }
      occupying.add(fresh)
      current.set(tenant, fresh)
      run(start(fresh))
      return { _tag: "starting", slot: fresh }
    }

    const acquire = (tenant: string) =>
      Effect.gen(function* () {
        const deadline = performance.now() + config.spawnWaitMs
        for (;;) {
          const step = decide(tenant)
          switch (step._tag) {
            case "use":
              return step.slot
            case "starting":
              yield* Deferred.await(step.slot.started)
              break
            case "evicting":
              if (step.slot.channel !== undefined) yield* step.slot.channel.exited
              break
            case "full": {
              const left = deadline - performance.now()
              if (left <= 0) return yield* new QuotaExceeded({ code: "E_QUOTA_EXCEEDED", reason: "spawn" })
              yield* Deferred.await(step.signal).pipe(Effect.timeout(Duration.millis(left)), Effect.ignore)
            }
          }
        }
      })

    const release = (slot: Slot) =>
      Effect.sync(() => {
        slot.refs--
        slot.lastUsed = performance.now()
        if (slot.refs === 0) notify()
      })

    // Idle eviction: a ready worker nobody holds, unused for `workerIdleMs`, is closed.
    const sweepEvery = Math.max(20, Math.min(1_000, Math.floor(config.workerIdleMs / 4)))
    run(
      Effect.sync(() => {
        const now = performance.now()
        for (const slot of [...current.values()]) {
          if (slot.state === "ready" && slot.refs === 0 && now - slot.lastUsed >= config.workerIdleMs) {
            retire(slot, "idle")
          }
        }
      }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(sweepEvery))), Effect.asVoid)
    )

    // Shutdown: every thread is closed (terminated after a grace period) before the scope ends.
    yield* Effect.addFinalizer(() =>
      Effect.forEach(
        [...occupying],
        (slot) => (slot.channel === undefined ? Effect.void : slot.channel.close("shutdown", CLOSE_GRACE_MS)),
        { concurrency: "unbounded", discard: true }
      )
    )

    const api: TenantWorkerPoolApi = {
      get: (tenant) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const slot = yield* restore(acquire(tenant))
            yield* Effect.addFinalizer(() => release(slot))
            return slot.worker as TenantWorker
          })
        ),
      ifLive: (tenant, f) => {
        const slot = current.get(tenant)
        return slot?.state === "ready" && slot.worker !== undefined
          ? Effect.ignore(f(slot.worker))
          : Effect.void
      },
      live: Effect.sync(() => [...current.values()].filter((s) => s.state === "ready").map((s) => s.tenant)),
      liveCount: Effect.sync(() => occupying.size),
      terminate: (tenant) =>
        Effect.suspend(() => {
          const slot = current.get(tenant)
          if (slot === undefined) return Effect.succeed(false)
          current.delete(tenant)
          const wasStarting = slot.state === "starting"
          slot.state = "closing"
          const kill = (channel: Channel | undefined) =>
            channel === undefined ? Effect.void : channel.terminate("terminated")
          // A worker still starting is killed once its thread exists (or its start fails).
          return (wasStarting ? Effect.ignore(Deferred.await(slot.started)) : Effect.void).pipe(
            Effect.zipRight(Effect.suspend(() => kill(slot.channel))),
            Effect.as(true)
          )
        }),
      withDeadline: (tenant, ms, effect) =>
        effect.pipe(
          Effect.timeoutFail({
            duration: Duration.millis(ms),
            onTimeout: () => new TaskTimeout({ code: "E_TASK_TIMEOUT", reason: "deadline" })
          }),
          Effect.tapError((e) => {
            if (!(e instanceof TaskTimeout)) return Effect.void
            const slot = current.get(tenant)
            if (slot === undefined || slot.state !== "ready") return Effect.void
            slot.deadlineHit = true
            return Deferred.await(probe(slot)).pipe(
              Effect.ensuring(Effect.sync(() => (slot.deadlineHit = false)))
            )
          })
        ),
      exits: PubSub.subscribe(exitsHub),
      stats: Effect.sync(() => ({
        live: occupying.size,
        spawned,
        exits: { ...exitCounts },
        refusedMessages: refused
      }))
    }
    return TenantWorkerPool.of(api)
  })

/** The pool layer over Node `worker_threads`. */
export const layer = <R>(boot: (tenant: string) => Effect.Effect<TenantBoot, never, R>) =>
  Layer.scoped(TenantWorkerPool, make(boot))
