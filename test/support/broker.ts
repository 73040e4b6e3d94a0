/**
 * Starts a real broker (control-plane SQLite file, tenant worker threads, Cedar) behind a real HTTP server
 * on loopback, in a fresh temporary data directory, for one test file.
 */
import type { RuntimeConfigShape } from "@cordon/runtime/RuntimeConfig"
import type { AuditLogService } from "@cordon/store/AuditLog"
import { CallerTokens } from "@cordon/runtime/CallerTokens"
import type { Team } from "@cordon/sdk/Team"
import { brokerLayer } from "@cordon/server/Broker"
import { serverLayer } from "@cordon/server/Http"
import { HttpServer } from "@effect/platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import { existsSync, readFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { checkAudit, checkLedger, scanDataDir } from "../threat/support/oracles.js"

export const testWorkerEntry = path.resolve(import.meta.dirname, "../dist/test-worker.mjs")

export const startBroker = async (options: {
  readonly team: Team
  readonly workerEntry: string
  readonly config?: Partial<RuntimeConfigShape>
  /** Wraps the broker's audit log, e.g. `makeAuditFault().wrap` from `test/threat/support/faults.ts`. */
  readonly wrapAuditLog?: (log: AuditLogService) => AuditLogService
  /** Records between two signed audit checkpoints (default 100). */
  readonly auditCheckpointEvery?: number
  /** Run the shared oracles when the broker stops (default true). */
  readonly oracles?: boolean
}) => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cordon-test-"))
  const layer = serverLayer({ host: "127.0.0.1", port: 0 }).pipe(
    Layer.provideMerge(
      brokerLayer({
        dataDir,
        team: options.team,
        workerEntry: options.workerEntry,
        config: options.config ?? {},
        ...(options.wrapAuditLog !== undefined ? { wrapAuditLog: options.wrapAuditLog } : {}),
        ...(options.auditCheckpointEvery !== undefined
          ? { auditCheckpoints: { every: options.auditCheckpointEvery } }
          : {})
      })
    )
  )
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  const baseUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  const token = (tenant: string, user = `user-${tenant}`) =>
    runtime.runPromise(Effect.flatMap(CallerTokens, (t) => t.mint(tenant, user)))
  const get = async (route: string, bearer: string) => {
    const res = await fetch(`${baseUrl}${route}`, { headers: { authorization: bearer } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  return {
    dataDir,
    baseUrl,
    runtime,
    token,
    /** Plain HTTP call with an optional bearer token; returns status and parsed JSON body. */
    http: async (method: string, route: string, body?: unknown, bearer?: string, raw?: string) => {
      const headers: Record<string, string> = { "content-type": "application/json" }
      if (bearer !== undefined) headers.authorization = bearer
      const res = await fetch(`${baseUrl}${route}`, {
        method,
        headers,
        ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      const text = await res.text()
      let json: unknown = null
      try {
        json = JSON.parse(text)
      } catch {
        json = text
      }
      return { status: res.status, body: json as Record<string, unknown> }
    },
    /** Lines the test team's `side.effect` tool wrote for `tenant` (each line = one side effect that ran). */
    effects: (tenant: string) => {
      const file = path.join(dataDir, "tenants", tenant, "effects.log")
      return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []
    },
    /** Polls a task of the bearer's tenant until it has ended (at most ~5 s); returns its last view. */
    settle: async (taskId: string, bearer: string) => {
      let task = await get(`/v1/tasks/${taskId}`, bearer)
      for (let i = 0; i < 100 && (task.body.status === "running" || task.body.status === "queued"); i++) {
        await new Promise((r) => setTimeout(r, 50))
        task = await get(`/v1/tasks/${taskId}`, bearer)
      }
      return task
    },
    /**
     * Stops the broker, then runs the oracles every test shares (THREATS.md §0) over what it left: the
     * audit chain and checkpoints verify, every deny has a code and no record holds a token (G-AUD); no
     * file of the data directory holds another tenant's canary or anything JWT- or PEM-shaped (G-LEAK);
     * every task is in a known state with a reason (G-LOSS). Fails the test file on any problem.
     * `oracles: "audit-and-ledger"` skips the data-directory scan (a test that stores a token in a task's
     * input on purpose); `oracles: false` skips them all.
     */
    stop: async (stopOptions: { readonly oracles?: boolean | "audit-and-ledger" } = {}) => {
      await runtime.dispose()
      try {
        if (stopOptions.oracles !== false && options.oracles !== false) {
          const problems = [
            ...checkAudit(dataDir),
            ...(stopOptions.oracles === "audit-and-ledger"
              ? []
              : scanDataDir(dataDir).map((l) => `G-LEAK: ${l.detail} in ${l.where}`)),
            ...checkLedger(dataDir)
          ]
          if (problems.length > 0) throw new Error(`oracles failed:\n${problems.join("\n")}`)
        }
      } finally {
        await fs.rm(dataDir, { recursive: true, force: true })
      }
    }
  }
}

export type TestBroker = Awaited<ReturnType<typeof startBroker>>
