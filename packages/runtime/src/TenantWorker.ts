/**
 * The tenant worker's side of the channel: boots for one tenant, runs that tenant's agents and tools, and
 * asks the broker before every tool call and handoff. Bundle an entry that calls {@link runTenantWorker} with
 * your team (see `apps/examples/src/worker.ts`); the broker spawns it once per tenant.
 */
import { makeSessionCacheRegistry, SessionCacheRegistry } from "@cordon/cache/SessionCacheRegistry"
import type { Team } from "@cordon/sdk/Team"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { tenantDirOf } from "./internal/paths.js"
import { type Answer, serve } from "./internal/workerLoop.js"
import { type AgentEvent, RemoteFailure, WorkerRequest } from "./Protocol.js"
import { WorkerState, type WorkerStateApi } from "./WorkerState.js"

/** Dimension of the session caches' embeddings (the default feature-hashing embedder's). */
export const EMBEDDING_DIMENSION = 256

/**
 * The agent runner (token chain verification, tool gate, cache binding) is loaded on the first `RunAgent`,
 * not at start-up: a worker becomes ready without evaluating it (bundled, it is a lazily initialised part
 * of the same file).
 */
let agentRunner: typeof import("./internal/agentRun.js") | undefined
const loadAgentRunner = Effect.suspend(() =>
  agentRunner === undefined
    ? Effect.map(
        Effect.promise(() => import("./internal/agentRun.js")),
        (loaded) => (agentRunner = loaded)
      )
    : Effect.succeed(agentRunner)
)

/** Starts the worker's message loop for `team`. Call once, from a `worker_threads` entry module. */
export const runTenantWorker = (team: Team): void => {
  // Until the broker says otherwise (`InitialMessage`), answers are capped at 1 MiB.
  let maxMessageBytes = 1_048_576
  const single = (effect: Effect.Effect<unknown, unknown, WorkerState | SessionCacheRegistry>): Answer => ({
    _tag: "Single",
    effect
  })
  const answer = (request: WorkerRequest): Answer => {
    switch (request._tag) {
      case "InitialMessage": {
        maxMessageBytes = request.maxMessageBytes
        const tenantDir = tenantDirOf(request.dataDir, request.tenant)
        const state: WorkerStateApi = {
          tenant: request.tenant,
          trustDomain: request.trustDomain,
          issuer: request.issuer,
          keys: { jwks: request.jwks },
          dataDir: request.dataDir,
          tenantDir,
          maxDepth: request.maxDepth,
          clockToleranceSec: request.clockToleranceSec,
          settings: request.settings,
          revoked: new Set(request.revoked),
          revocationView: { version: 0, syncedAt: performance.now() },
          revocationStaleMs: request.revocationStaleMs,
          maxMessageBytes: request.maxMessageBytes,
          pending: new Map()
        }
        const caches = makeSessionCacheRegistry({
          rootDir: request.dataDir,
          tenant: request.tenant,
          dimension: EMBEDDING_DIMENSION
        })
        return {
          _tag: "Boot",
          services: Effect.map(caches, (registry) =>
            Context.make(WorkerState, state).pipe(Context.add(SessionCacheRegistry, registry))
          ).pipe(Effect.mapError((e) => new RemoteFailure({ code: "E_WORKER_BOOT", reason: String(e) })))
        }
      }
      case "Ping":
        return single(Effect.succeed("pong" as const))
      case "UpdateKeys":
        return single(
          Effect.map(WorkerState, (s) => {
            s.keys.jwks = request.jwks
          })
        )
      case "OpenSession":
        return single(
          Effect.flatMap(WorkerState, (s) =>
            Effect.flatMap(SessionCacheRegistry, (r) =>
              r.open(s.tenant, request.session, new Uint8Array(Buffer.from(request.dataKey, "base64url")))
            )
          ).pipe(Effect.asVoid, Effect.mapError(toRemote))
        )
      case "ScanSession":
        return single(
          Effect.flatMap(SessionCacheRegistry, (r) => r.get(request.session)).pipe(
            Effect.flatMap((cache) => cache.countOccurrences(request.needles)),
            Effect.mapError(toRemote)
          )
        )
      case "EndSession":
        return single(
          Effect.flatMap(SessionCacheRegistry, (r) => r.destroy(request.session)).pipe(
            Effect.mapError(toRemote)
          )
        )
      case "Revoke":
        return single(
          Effect.map(WorkerState, (s) => {
            for (const jti of request.jtis) s.revoked.add(jti)
            s.revocationView.version = Math.max(s.revocationView.version, request.version)
            s.revocationView.syncedAt = performance.now()
          })
        )
      case "Reply":
        return single(
          Effect.flatMap(WorkerState, (s) => {
            const waiting = s.pending.get(request.callId)
            if (waiting === undefined) return Effect.void
            s.pending.delete(request.callId)
            return Effect.asVoid(Deferred.succeed(waiting, request.body))
          })
        )
      case "RunAgent":
        // The run's calls go out as it makes them; its output is the last event, sent with the end.
        return {
          _tag: "Events",
          run: (emit) =>
            Effect.flatMap(loadAgentRunner, ({ runAgent }) =>
              Effect.map(
                runAgent(team, request, emit as (event: AgentEvent) => Effect.Effect<boolean>),
                (output): AgentEvent => ({ _tag: "Output", output })
              )
            )
        }
    }
  }
  serve(WorkerRequest.members, answer, () => maxMessageBytes).pipe(
    Effect.scoped,
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}

const toRemote = (e: { readonly code?: string; readonly message?: string }) =>
  new RemoteFailure({ code: e.code ?? "E_INTERNAL", reason: e.message ?? "worker operation failed" })
