/**
 * Restart recovery: a real `cordon serve` process is killed with SIGKILL mid-run and started again on the
 * same data directory. Queued tasks run; tasks that were running are retried (idempotent agent) or failed
 * with `E_WORKER_CRASHED` (otherwise), exactly like a worker crash; credentials minted before the kill
 * are all revoked after it; the audit chain verifies; the ledger balances.
 */
import { CallerTokens, layerDev } from "@cordon/runtime/CallerTokens"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundleWorker } from "../threat/support/workers.js"

const root = path.resolve(import.meta.dirname, "../..")
const cli = path.join(root, "apps/server/bin/cordon.mjs")
const teamModule = path.join(root, "test/threat/lifecycle/team.ts")

let dataDir: string
let port: number
let worker: string
let server: ChildProcess | undefined

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

const start = async () => {
  const child = spawn(
    process.execPath,
    [cli, "serve", "--data-dir", dataDir, "--port", String(port), "--team", teamModule, "--worker", worker],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "test" } }
  )
  child.stdout?.resume()
  child.stderr?.resume()
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false
    )
    if (up) return child
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error("server did not start")
}

const http = async (method: string, route: string, bearer: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method,
    headers: { authorization: bearer, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return (await res.json()) as Record<string, unknown>
}

const db = () => new Database(path.join(dataDir, "control-plane.sqlite"), { readonly: true })

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-restart-"))
  port = await freePort()
  worker = bundleWorker(path.join(root, "test/threat/lifecycle/worker.ts"), "lifecycle-worker.mjs")
})

afterAll(() => {
  server?.kill("SIGKILL")
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe("restart recovery", () => {
  it("after SIGKILL mid-run: queued tasks run, running ones retried or failed, revocations hold, audit verifies, ledger balances", async () => {
    server = await start()
    const token = await Effect.runPromise(
      Effect.flatMap(CallerTokens, (t) => t.mint("acme", "alice")).pipe(Effect.provide(layerDev(dataDir)))
    )
    const bearer = `Bearer ${token}`
    const session = String((await http("POST", "/v1/sessions", bearer, {})).id)
    const submit = async (agent: string, label: string, ms: number) =>
      String(
        (
          await http("POST", "/v1/tasks", bearer, {
            session,
            agent,
            intent: "exec.run",
            input: { mode: "sleep", ms, label }
          })
        ).id
      )
    // Four run at once (tenant concurrency 4): two idempotent, two not; two more wait in the queue.
    const retried = [await submit("runner", "r-0", 4000), await submit("runner", "r-1", 4000)]
    const failed = [await submit("fragile", "f-0", 4000), await submit("fragile", "f-1", 4000)]
    const queued = [await submit("runner", "q-0", 100), await submit("runner", "q-1", 100)]
    for (let i = 0; i < 100; i++) {
      // All four running and holding their credentials.
      const minted = db().prepare("SELECT COUNT(DISTINCT task) AS n FROM credentials").get() as { n: number }
      if (minted.n === 4) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const mintedBefore = (db().prepare("SELECT jti FROM credentials").all() as Array<{ jti: string }>).map(
      (r) => r.jti
    )
    expect(mintedBefore.length).toBeGreaterThanOrEqual(4)

    server.kill("SIGKILL")
    await new Promise((r) => server?.once("exit", r))
    server = await start()

    const view = (id: string) => http("GET", `/v1/tasks/${id}`, bearer)
    const done = async () =>
      (await Promise.all([...retried, ...failed, ...queued].map(view))).every(
        (t) => t.status !== "queued" && t.status !== "running"
      )
    for (let i = 0; i < 300 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100))

    for (const id of retried) {
      const t = await view(id)
      expect(t.status).toBe("succeeded")
      expect(t.attempts).toBe(2)
    }
    for (const id of failed) {
      const t = await view(id)
      expect(t.status).toBe("failed")
      expect((t.error as { code: string }).code).toBe("E_WORKER_CRASHED")
    }
    for (const id of queued) expect((await view(id)).status).toBe("succeeded")

    const conn = db()
    const unrevoked = conn
      .prepare(
        `SELECT COUNT(*) AS n FROM credentials WHERE revoked_at IS NULL AND jti IN (${mintedBefore.map(() => "?").join(",")})`
      )
      .get(...mintedBefore) as { n: number }
    expect(unrevoked.n).toBe(0)
    const rows = conn.prepare("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status").all() as Array<{
      status: string
      n: number
    }>
    const total = rows.reduce((s, r) => s + r.n, 0)
    expect(total).toBe(6)
    expect(rows.filter((r) => r.status === "queued" || r.status === "running")).toEqual([])
    const recovered = conn
      .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'task.recover'")
      .get() as { n: number }
    expect(recovered.n).toBe(4)
    conn.close()

    server.kill("SIGTERM")
    await new Promise((r) => server?.once("exit", r))
    server = undefined
    const verify = execFileSync(process.execPath, [cli, "audit", "verify", "--data-dir", dataDir], {
      cwd: root
    }).toString()
    expect(verify).toMatch(/valid|ok/i)
  }, 120_000)
})
