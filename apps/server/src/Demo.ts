/**
 * `cordon demo`: three tenants' real mail through the real service. Starts the broker and HTTP server on
 * loopback, drives everything through the API, scans for leaks, ends the sessions, checks that no
 * credential is live and the audit chain verifies, stops the server and writes the report.
 */
import {
  buildReport,
  type DemoOptions,
  type DemoReport,
  driveDemo,
  endSessions,
  mailTeam,
  prepareDemo,
  scanLeaks
} from "@cordon/examples"
import { CallerTokens } from "@cordon/runtime/CallerTokens"
import { Orchestrator } from "@cordon/runtime/Orchestrator"
import { AuditLog } from "@cordon/store/AuditLog"
import { Credentials } from "@cordon/store/Credentials"
import { HttpServer } from "@effect/platform"
import { Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import { brokerLayer } from "./Broker.js"
import { serverLayer } from "./Http.js"
import { workerEntry } from "./WorkerEntry.js"

/** The user each demo tenant's tasks run for. */
export const demoUser = (tenant: string): string => `user-${tenant}`

export interface DemoRun {
  readonly report: DemoReport
  readonly baseUrl: string
  readonly sampleTaskIds: Readonly<Record<string, string>>
  /** Each session's own canary found in its decrypted cache (positive control of the leak probe). */
  readonly ownCacheHits: number
}

/** Runs the demo in `dataDir` (wiped first: it holds demo data only). */
export const runDemo = (options: {
  readonly dataDir: string
  readonly demo: DemoOptions
  readonly concurrency?: number
  readonly onProgress?: (done: number, total: number) => void
}) =>
  Effect.gen(function* () {
    const started = Date.now()
    yield* Effect.promise(() => fs.rm(options.dataDir, { recursive: true, force: true }))
    yield* Effect.promise(() => fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 }))
    const prepared = yield* Effect.promise(() => prepareDemo(options.dataDir, options.demo))
    const broker = brokerLayer({
      dataDir: options.dataDir,
      team: mailTeam,
      workerEntry: workerEntry(),
      config: { settings: { spamModel: prepared.modelPath } }
    })
    const app = serverLayer({ host: "127.0.0.1", port: 0 }).pipe(Layer.provideMerge(broker))
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(app)
        const server = yield* Effect.provide(HttpServer.HttpServer, context)
        const address = server.address
        const baseUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
        const callers = yield* Effect.provide(CallerTokens, context)
        const tokens: Record<string, string> = {}
        for (const tenant of options.demo.tenants)
          tokens[tenant] = yield* callers.mint(tenant, demoUser(tenant))
        const drive = yield* driveDemo({
          baseUrl,
          tokens,
          prepared,
          concurrency: options.concurrency ?? 6,
          ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress })
        })
        const orchestrator = yield* Effect.provide(Orchestrator, context)
        const probe = (tenant: string, session: string, needles: ReadonlyArray<string>) =>
          Effect.runPromise(
            orchestrator
              .scanSessionCache({ tenant, user: demoUser(tenant) }, session, needles)
              .pipe(Effect.orDieWith((e) => new Error(`cache probe failed: ${e.code}`)))
          )
        const leaks = yield* Effect.promise(() => scanLeaks(options.dataDir, prepared, drive, probe))
        yield* endSessions({ baseUrl, tokens, sessionIds: drive.sessionIds })
        yield* orchestrator.drain
        const credentials = yield* Effect.provide(Credentials, context)
        const audit = yield* Effect.provide(AuditLog, context)
        const live = yield* credentials.liveCount(Math.floor(Date.now() / 1000))
        const verification = yield* audit.verify()
        const report = buildReport({
          prepared,
          drive,
          leaks,
          liveCredentialsAfterRun: live,
          auditChainValid: verification.valid,
          elapsedMs: Date.now() - started
        })
        const sampleTaskIds: Record<string, string> = {}
        for (const r of drive.results) {
          if (r.message.injected && sampleTaskIds[r.tenant] === undefined) sampleTaskIds[r.tenant] = r.task.id
        }
        return { report, baseUrl, sampleTaskIds, ownCacheHits: leaks.ownCacheHits } satisfies DemoRun
      })
    )
  })
