/**
 * The tenant worker's side of the channel: boots for one tenant, runs that tenant's agents and tools, and
 * asks the broker before every tool call and handoff. Bundle an entry that calls {@link runTenantWorker} with
 * your team (see `apps/examples/src/worker.ts`); the broker spawns it once per tenant.
 */
import { SessionCacheRegistry } from "@cordon/cache/SessionCacheRegistry"
import type { Team } from "@cordon/sdk/Team"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Mailbox from "effect/Mailbox"
import * as Stream from "effect/Stream"
import { runAgent } from "./internal/agentRun.js"
import * as CappedRunner from "./internal/cappedRunner.js"
import { tenantDirOf } from "./internal/paths.js"
import { type AgentEvent, RemoteFailure, WorkerRequest } from "./Protocol.js"
import { WorkerState, type WorkerStateApi } from "./WorkerState.js"

/** Dimension of the session caches' embeddings (the default feature-hashing embedder's). */
export const EMBEDDING_DIMENSION = 256

/** Starts the worker's message loop for `team`. Call once, from a `worker_threads` entry module. */
export const runTenantWorker = (team: Team): void => {
  // Until the broker says otherwise (`InitialMessage`), answers are capped at 1 MiB.
  let maxMessageBytes = 1_048_576
  const handlers = {
    InitialMessage: (init: typeof WorkerRequest.Type & { _tag: "InitialMessage" }) => {
      maxMessageBytes = init.maxMessageBytes
      const tenantDir = tenantDirOf(init.dataDir, init.tenant)
      const state = Layer.succeed(WorkerState, {
        tenant: init.tenant,
        trustDomain: init.trustDomain,
        issuer: init.issuer,
        keys: { jwks: init.jwks },
        dataDir: init.dataDir,
        tenantDir,
        maxDepth: init.maxDepth,
        clockToleranceSec: init.clockToleranceSec,
        settings: init.settings,
        revoked: new Set(init.revoked),
        revocationView: { version: 0, syncedAt: performance.now() },
        revocationStaleMs: init.revocationStaleMs,
        maxMessageBytes: init.maxMessageBytes,
        pending: new Map()
      })
      const caches = SessionCacheRegistry.layer({
        rootDir: init.dataDir,
        tenant: init.tenant,
        dimension: EMBEDDING_DIMENSION
      })
      return Layer.merge(state, caches).pipe(
        Layer.mapError((e) => new RemoteFailure({ code: "E_WORKER_BOOT", reason: String(e) }))
      )
    },
    Ping: () => Effect.succeed("pong" as const),
    UpdateKeys: ({ jwks }: { jwks: WorkerStateApi["keys"]["jwks"] }) =>
      Effect.map(WorkerState, (s) => {
        s.keys.jwks = jwks
      }),
    OpenSession: ({ session, dataKey }: { session: string; dataKey: string }) =>
      Effect.flatMap(WorkerState, (s) =>
        Effect.flatMap(SessionCacheRegistry, (r) =>
          r.open(s.tenant, session, new Uint8Array(Buffer.from(dataKey, "base64url")))
        )
      ).pipe(Effect.asVoid, Effect.mapError(toRemote)),
    ScanSession: ({ session, needles }: { session: string; needles: ReadonlyArray<string> }) =>
      Effect.flatMap(SessionCacheRegistry, (r) => r.get(session)).pipe(
        Effect.flatMap((cache) => cache.countOccurrences(needles)),
        Effect.mapError(toRemote)
      ),
    EndSession: ({ session }: { session: string }) =>
      Effect.flatMap(SessionCacheRegistry, (r) => r.destroy(session)).pipe(Effect.mapError(toRemote)),
    Revoke: ({ jtis, version }: { jtis: ReadonlyArray<string>; version: number }) =>
      Effect.map(WorkerState, (s) => {
        for (const jti of jtis) s.revoked.add(jti)
        s.revocationView.version = Math.max(s.revocationView.version, version)
        s.revocationView.syncedAt = performance.now()
      }),
    Reply: ({ callId, body }: typeof WorkerRequest.Type & { _tag: "Reply" }) =>
      Effect.flatMap(WorkerState, (s) => {
        const waiting = s.pending.get(callId)
        if (waiting === undefined) return Effect.void
        s.pending.delete(callId)
        return Effect.asVoid(Deferred.succeed(waiting, body))
      }),
    RunAgent: (req: typeof WorkerRequest.Type & { _tag: "RunAgent" }) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const mailbox = yield* Mailbox.make<AgentEvent, RemoteFailure>()
          yield* runAgent(team, req, (event) => mailbox.offer(event)).pipe(
            Effect.matchEffect({
              onFailure: (e) => mailbox.fail(e),
              onSuccess: (output) => Effect.zipRight(mailbox.offer({ _tag: "Output", output }), mailbox.end)
            }),
            Effect.forkScoped
          )
          return Mailbox.toStream(mailbox)
        })
      )
  }
  WorkerRunner.launch(WorkerRunner.layerSerialized(WorkerRequest, handlers)).pipe(
    Effect.provide(CappedRunner.layer(() => maxMessageBytes)),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}

const toRemote = (e: { readonly code?: string; readonly message?: string }) =>
  new RemoteFailure({ code: e.code ?? "E_INTERNAL", reason: e.message ?? "worker operation failed" })
