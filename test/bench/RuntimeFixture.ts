/**
 * The runtime benchmarks' broker: the layer graph the server composes (`brokerLayer`) over a fresh data
 * directory, serving the hostile test team (it has the `noop` agent), with the bundled test worker
 * (`test/dist/test-worker.mjs`, built by `pnpm --filter @cordon/test build`).
 *
 * @module
 */
import { TokenService } from "@cordon/identity/TokenService"
import { OpenSession, RunAgent } from "@cordon/runtime/Protocol"
import { type TenantWorker, TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { AgentContext, type AgentContextApi } from "@cordon/sdk/AgentContext"
import { brokerLayer } from "@cordon/server/Broker"
import { Effect, Exit, ManagedRuntime, Schema, Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { hostileTeam, noop } from "../fixtures/hostileTeam.js"

export const workerEntry = path.resolve(import.meta.dirname, "../dist/test-worker.mjs")

const hex = () => randomBytes(16).toString("hex")

/** A broker runtime over a temporary directory; `dispose` stops it (and its workers) and removes it. */
export const startRuntime = () => {
  if (!fs.existsSync(workerEntry)) {
    throw new Error(`${workerEntry} is missing: run pnpm --filter @cordon/test build`)
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-"))
  const runtime = ManagedRuntime.make(
    brokerLayer({
      dataDir,
      team: hostileTeam,
      workerEntry,
      config: { maxWorkers: 64, workerIdleMs: 600_000, revocationSyncMs: 60_000, revocationStaleMs: 600_000 }
    })
  )
  return {
    runtime,
    dispose: async () => {
      await runtime.dispose()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

export interface SpawnState {
  /** Spawns the tenant's worker until ready (ms), then terminates it (not measured). */
  readonly coldStart: () => Promise<number>
  readonly dispose: () => Promise<void>
}

/** `runtime.worker.spawn`: `pool.get` of a tenant with no live worker, until its readiness ping answered. */
export const setupSpawn = async (): Promise<SpawnState> => {
  const { runtime, dispose } = startRuntime()
  const pool = await runtime.runPromise(TenantWorkerPool)
  // Boot data (the tenant's key ring) exists already: the sample is the thread's cold start.
  await runtime.runPromise(Effect.scoped(pool.get("bench-spawn")))
  await runtime.runPromise(pool.terminate("bench-spawn"))
  return {
    coldStart: async () => {
      const start = performance.now()
      await runtime.runPromise(Effect.scoped(pool.get("bench-spawn")))
      const ms = performance.now() - start
      await runtime.runPromise(pool.terminate("bench-spawn"))
      return ms
    },
    dispose
  }
}

export interface DispatchState {
  /** One `RunAgent` of `noop` on the warm worker, to the end of its event stream. */
  readonly dispatch: () => Promise<void>
  readonly dispose: () => Promise<void>
}

/**
 * `runtime.dispatch`: a warm tenant worker (held), an open session cache and a root token for `noop`
 * minted once (minting is not measured).
 */
export const setupDispatch = async (): Promise<DispatchState> => {
  const { runtime, dispose } = startRuntime()
  const tenant = "bench-dispatch"
  const scope = await runtime.runPromise(Scope.make())
  const worker: TenantWorker = await runtime.runPromise(
    Effect.flatMap(TenantWorkerPool, (pool) => pool.get(tenant)).pipe(Scope.extend(scope))
  )
  const session = `s-${hex()}`
  await runtime.runPromise(
    worker.executeEffect(new OpenSession({ session, dataKey: randomBytes(32).toString("base64url") }))
  )
  const minted = await runtime.runPromise(
    Effect.flatMap(TokenService, (tokens) =>
      tokens.mintRoot({
        tenant,
        session,
        user: "user-bench",
        txn: `task-${hex()}`,
        agent: "noop",
        intent: "hostile.run",
        scopes: ["side:write"],
        ttlSeconds: 120,
        notAfter: Math.floor(Date.now() / 1000) + 3600,
        trustDomain: "cordon.local"
      })
    )
  )
  let n = 0
  const dispatch = () =>
    Effect.runPromise(
      worker.executeEach(
        new RunAgent({ runId: `b${++n}`, agent: "noop", input: {}, chain: [minted.token] }),
        () => Effect.void
      )
    )
  await dispatch()
  return {
    dispatch,
    dispose: async () => {
      await runtime.runPromise(Scope.close(scope, Exit.void))
      await dispose()
    }
  }
}

/** `runtime.baseline.inprocess`: the same `noop` agent run and its output encoded, on the main thread. */
export const inProcessNoop = () =>
  Effect.runPromise(
    noop
      .run({})
      .pipe(
        Effect.flatMap(Schema.encode(noop.output)),
        Effect.provideService(AgentContext, {} as AgentContextApi)
      )
  )

export interface RssState {
  /** Spawns `count` idle workers of fresh tenants; resolves to the process RSS growth per worker (MB). */
  readonly perWorker: () => Promise<number>
  readonly dispose: () => Promise<void>
}

/**
 * `runtime.worker.rss`: resident memory of idle tenant workers, measured as the growth of the whole
 * process's RSS (`process.memoryUsage().rss`) while `count` idle workers are live, divided by `count`
 * (RSS is per process: a thread has no RSS of its own).
 */
export const setupRss = async (count = 8): Promise<RssState> => {
  const { runtime, dispose } = startRuntime()
  const pool = await runtime.runPromise(TenantWorkerPool)
  let round = 0
  // Boot data for every tenant first, so key rings are not counted.
  const tenantsOf = (r: number) => Array.from({ length: count }, (_, i) => `bench-rss-${r}-${i}`)
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300))
  return {
    perWorker: async () => {
      const tenants = tenantsOf(++round)
      await runtime.runPromise(Effect.forEach(tenants, (t) => Effect.scoped(pool.get(t)), { discard: true }))
      await runtime.runPromise(Effect.forEach(tenants, (t) => pool.terminate(t), { discard: true }))
      await settle()
      const before = process.memoryUsage().rss
      await runtime.runPromise(Effect.forEach(tenants, (t) => Effect.scoped(pool.get(t)), { discard: true }))
      await settle()
      const after = process.memoryUsage().rss
      await runtime.runPromise(Effect.forEach(tenants, (t) => pool.terminate(t), { discard: true }))
      return (after - before) / count / (1024 * 1024)
    },
    dispose
  }
}
