/**
 * A real `TenantWorkerPool` over real worker threads running the stand-in entries in `fixtures/` (which
 * speak the WorkerRunner wire protocol directly and misbehave on cue), with an in-memory audit log.
 */
import type { AuditEntry } from "@cordon/store/Model"
import { AuditLog, type AuditLogService } from "@cordon/store/AuditLog"
import {
  Cause,
  Chunk,
  Effect,
  ExecutionStrategy,
  Exit,
  Layer,
  ManagedRuntime,
  Option,
  Scope,
  Stream
} from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { RunAgent } from "../src/Protocol.js"
import * as RuntimeConfig from "../src/RuntimeConfig.js"
import * as TenantWorkerPool from "../src/TenantWorkerPool.js"

export const fixture = (name: string) => path.resolve(import.meta.dirname, "fixtures", name)

export const runAgent = (agent: string, input: unknown = {}) =>
  new RunAgent({ runId: "r1", agent, input, chain: [] })

export const makePool = async (
  config: Partial<RuntimeConfig.RuntimeConfigShape> = {},
  entry = fixture("fakeWorker.mjs")
) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-pool-"))
  const audits: Array<AuditEntry> = []
  const audit = Layer.succeed(AuditLog, {
    append: (entry: AuditEntry) =>
      Effect.sync(() => {
        audits.push(entry)
        return entry
      })
  } as unknown as AuditLogService)
  const layer = TenantWorkerPool.layer(() =>
    Effect.succeed({ issuer: "https://issuer.test", jwks: { keys: [] }, revoked: [] })
  ).pipe(
    Layer.provide(audit),
    Layer.provide(
      RuntimeConfig.layer({ dataDir, workerEntry: entry, workerStartMs: 2_000, spawnWaitMs: 300, ...config })
    )
  )
  const runtime = ManagedRuntime.make(layer)
  const pool = await runtime.runPromise(TenantWorkerPool.TenantWorkerPool)
  const scope = await runtime.runPromise(Scope.make())
  return {
    pool,
    audits,
    /** Runs an effect with the pool's context (real clock). */
    run: <A, E>(effect: Effect.Effect<A, E, TenantWorkerPool.TenantWorkerPool | Scope.Scope>) =>
      runtime.runPromise(Effect.scoped(effect)),
    /** Holds the tenant's worker until `dispose` (or the returned release). */
    hold: async (tenant: string) => {
      const held = await runtime.runPromise(Scope.fork(scope, ExecutionStrategy.sequential))
      const worker = await runtime.runPromise(Scope.extend(pool.get(tenant), held))
      return { worker, release: () => runtime.runPromise(Scope.close(held, Exit.void)) }
    },
    dispose: async () => {
      await runtime.runPromise(Scope.close(scope, Exit.void))
      await runtime.dispose()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

export type PoolHarness = Awaited<ReturnType<typeof makePool>>

/** Runs one agent on the tenant's worker; resolves to its Exit (the streamed events, or the failure). */
export const runOn = (h: PoolHarness, tenant: string, agent: string, input: unknown = {}) =>
  h.run(
    Effect.flatMap(h.pool.get(tenant), (worker) =>
      Stream.runCollect(worker.execute(runAgent(agent, input)))
    ).pipe(Effect.map(Chunk.toReadonlyArray), Effect.exit)
  )

/** The failure of an Exit (or undefined). */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
