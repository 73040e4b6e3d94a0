/**
 * One worker thread per active tenant, spawned on demand and never handed to another tenant. Each worker is
 * started with an empty `env`, V8 heap `resourceLimits`, only its own tenant's public keys, and must answer a
 * readiness `Ping` before it is used. Idle workers are stopped after `workerIdleMs`.
 */
import * as Worker from "@effect/platform/Worker"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import * as WorkerThreads from "node:worker_threads"
import { WorkerUnavailable } from "./Errors.js"
import { InitialMessage, Ping, publicJwks, type WorkerRequest } from "./Protocol.js"
import { RuntimeConfig } from "./RuntimeConfig.js"

export type TenantWorker = Worker.SerializedWorker<WorkerRequest>

/** What the pool needs from the broker to boot a tenant's worker. */
export interface TenantBoot {
  readonly issuer: string
  readonly jwks: { readonly keys: ReadonlyArray<unknown> }
  readonly revoked: ReadonlyArray<string>
}

export interface TenantWorkerPoolApi {
  /** The tenant's worker (spawned if needed), held for the caller's scope. */
  readonly get: (tenant: string) => Effect.Effect<TenantWorker, WorkerUnavailable, Scope.Scope>
  /** Runs `f` on the tenant's worker only if one is live; never spawns one. */
  readonly ifLive: <A>(
    tenant: string,
    f: (worker: TenantWorker) => Effect.Effect<A, unknown>
  ) => Effect.Effect<void>
  /** Tenants with a live worker. */
  readonly live: Effect.Effect<ReadonlyArray<string>>
}

export class TenantWorkerPool extends Context.Tag("@cordon/runtime/TenantWorkerPool")<
  TenantWorkerPool,
  TenantWorkerPoolApi
>() {}

/**
 * Builds the pool. `boot(tenant)` supplies the tenant's issuer, public JWKS and already-revoked token ids.
 * Fails a `get` with `WorkerUnavailable` when the worker cannot start or is not ready within 15 s.
 */
export const make = <R>(boot: (tenant: string) => Effect.Effect<TenantBoot, never, R>) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const bootContext = yield* Effect.context<R>()
    const manager = yield* Worker.WorkerManager
    const liveWorkers = new Map<string, TenantWorker>()
    // Workers are keyed `<tenant>#<generation>`. When a tenant's worker thread exits unexpectedly (crash,
    // heap limit), the tenant's generation moves on: the next task gets a fresh worker, while the dead
    // entry is released by the tasks still holding it (an in-use entry is never invalidated).
    const generations = new Map<string, number>()
    const keyOf = (tenant: string) => `${tenant}#${generations.get(tenant) ?? 0}`

    const spawn = (key: string) =>
      Effect.gen(function* () {
        const [tenant = "", gen = "0"] = key.split("#")
        const b = yield* Effect.provide(boot(tenant), bootContext)
        let current: TenantWorker | undefined
        const spawner = Worker.layerSpawner(() => {
          const thread = new WorkerThreads.Worker(config.workerEntry, {
            env: {},
            resourceLimits: config.workerResourceLimits,
            name: `cordon-tenant-${tenant}`,
            stdout: false,
            stderr: false
          })
          thread.once("exit", () => {
            if (String(generations.get(tenant) ?? 0) === gen) generations.set(tenant, Number(gen) + 1)
            if (current !== undefined && liveWorkers.get(tenant) === current) liveWorkers.delete(tenant)
          })
          return thread
        })
        const worker = yield* Worker.makeSerialized<WorkerRequest>({
          initialMessage: () =>
            new InitialMessage({
              tenant,
              trustDomain: config.trustDomain,
              issuer: b.issuer,
              jwks: publicJwks(b.jwks),
              dataDir: config.dataDir,
              maxDepth: config.maxDepth,
              clockToleranceSec: config.clockToleranceSec,
              revoked: [...b.revoked],
              revocationStaleMs: config.revocationStaleMs,
              settings: { ...config.settings }
            })
        }).pipe(Effect.provide(spawner), Effect.provideService(Worker.WorkerManager, manager))
        yield* worker.executeEffect(new Ping()).pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(15),
            onTimeout: () =>
              new WorkerUnavailable({ code: "E_WORKER_UNAVAILABLE", reason: "worker not ready" })
          })
        )
        current = worker
        liveWorkers.set(tenant, worker)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (liveWorkers.get(tenant) === worker) liveWorkers.delete(tenant)
          })
        )
        return worker
      }).pipe(
        Effect.mapError((e) =>
          e instanceof WorkerUnavailable
            ? e
            : new WorkerUnavailable({ code: "E_WORKER_UNAVAILABLE", reason: "worker failed to start" })
        )
      )

    const workers = yield* RcMap.make({
      lookup: spawn,
      idleTimeToLive: Duration.millis(config.workerIdleMs)
    })

    return TenantWorkerPool.of({
      get: (tenant) => RcMap.get(workers, keyOf(tenant)),
      ifLive: (tenant, f) => {
        const worker = liveWorkers.get(tenant)
        return worker === undefined ? Effect.void : Effect.ignore(f(worker))
      },
      live: Effect.sync(() => [...liveWorkers.keys()])
    })
  })

/** The pool layer over Node `worker_threads`. */
export const layer = <R>(boot: (tenant: string) => Effect.Effect<TenantBoot, never, R>) =>
  Layer.scoped(TenantWorkerPool, make(boot)).pipe(Layer.provide(NodeWorker.layerManager))
