/**
 * The demo at small scale through the real server, real tenant workers and real SQLite files, then the
 * `cordon trace` command on one of its tasks — as its own tenant and as another tenant.
 */
import { defaultDemoOptions } from "@cordon/examples"
import { type DemoRun, demoUser, runDemo } from "@cordon/server/Demo"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const cli = path.resolve(import.meta.dirname, "../../apps/server/bin/cordon.mjs")
let dataDir: string
let run: DemoRun

const cordon = (...args: Array<string>) =>
  promisify(execFile)(process.execPath, [cli, ...args], { encoding: "utf8" }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr
    })
  )

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cordon-demo-"))
  run = await Effect.runPromise(runDemo({ dataDir, demo: { ...defaultDemoOptions, perTenant: 8 } }))
})

afterAll(() => fs.rm(dataDir, { recursive: true, force: true }))

describe("demo at small scale", () => {
  it("every task succeeds, hands off, and the planted injections are denied with stable codes", () => {
    const r = run.report
    expect(r.tenants).toBe(3)
    expect(r.sessions).toBe(6)
    expect(r.tasks.submitted).toBe(3 * (8 + 3))
    expect(r.tasks.succeeded).toBe(r.tasks.submitted)
    expect(r.handoffs).toBeGreaterThanOrEqual(r.tasks.succeeded)
    expect(r.denials.byCode).toMatchObject({
      E_TENANT_MISMATCH: 3,
      E_TOOL_NOT_ALLOWED: 3,
      E_HANDOFF_DENIED: 3
    })
    expect(r.classification.accuracy).toBeGreaterThan(0.7)
  })

  it("MC-01 the leak probe reads the decrypted session caches (each session's own canary is found there)", () => {
    expect(run.ownCacheHits).toBeGreaterThan(0)
  })

  it("nothing leaked across tenants or sessions, no credential is live, the audit chain verifies", () => {
    expect(run.report.leaks).toEqual({ crossTenant: 0, crossSession: 0 })
    expect(run.report.liveCredentialsAfterRun).toBe(0)
    expect(run.report.auditChainValid).toBe(true)
  })

  it("MC-04 ending the sessions deleted every session cache file with its -wal and -shm", async () => {
    for (const tenant of defaultDemoOptions.tenants) {
      const dir = path.join(dataDir, "tenants", tenant, "sessions")
      const left = await fs.readdir(dir).catch(() => [])
      expect(left, tenant).toEqual([])
    }
  })

  it("AT-01 `cordon audit verify` reports the chain valid", async () => {
    const res = await cordon("audit", "verify", "--data-dir", dataDir)
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/audit log valid: \d+ records/)
  })

  it("`cordon trace` prints the delegation tree of a task, denials included", async () => {
    const [tenant, taskId] = Object.entries(run.sampleTaskIds)[0]!
    const res = await cordon(
      "trace",
      taskId,
      "--tenant",
      tenant,
      "--user",
      demoUser(tenant),
      "--data-dir",
      dataDir,
      "--offline"
    )
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`task ${taskId}`)
    expect(res.stdout).toMatch(/agent triage/)
    expect(res.stdout).toMatch(/handoff → summarizer jti=\S{8} scp=\[[^\]]+\] exp=\S+ depth=1/)
    expect(res.stdout).toMatch(/DENY .* code=E_/)
    expect(res.stdout).toMatch(/revoke /)
    expect(res.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/)
  })

  it("`cordon trace` on a task of another tenant fails with a typed not-found error", async () => {
    const [tenant, taskId] = Object.entries(run.sampleTaskIds)[0]!
    const other = defaultDemoOptions.tenants.find((t) => t !== tenant)!
    const res = await cordon(
      "trace",
      taskId,
      "--tenant",
      other,
      "--user",
      demoUser(tenant),
      "--data-dir",
      dataDir,
      "--offline"
    )
    expect(res.code).toBe(4)
    expect(res.stderr).toContain("E_NOT_FOUND")
    expect(res.stdout).toBe("")
  })
})
