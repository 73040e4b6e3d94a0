/**
 * The demo's report: task ledger, handoffs, tool calls, denials by code, classification accuracy, leak
 * counts (canaries of other tenants / sessions found in task outputs, traces and session cache files),
 * live credentials after the run and the audit chain's validity.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { DriveResult } from "./Drive.js"
import type { PreparedDemo } from "./Prepare.js"

export interface DemoReport {
  readonly tenants: number
  readonly sessions: number
  readonly tasks: { readonly submitted: number; readonly succeeded: number; readonly failed: number }
  readonly handoffs: number
  readonly toolCalls: number
  readonly denials: { readonly total: number; readonly byCode: Readonly<Record<string, number>> }
  readonly classification: { readonly accuracy: number; readonly scored: number }
  readonly leaks: { readonly crossTenant: number; readonly crossSession: number }
  readonly liveCredentialsAfterRun: number
  readonly auditChainValid: boolean
  readonly elapsedMs: number
}

const count = (haystack: string, needle: string) => {
  let n = 0
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++
  return n
}

/** Reads every file under `dir` (missing → empty), concatenated as latin1 so any byte sequence survives. */
const readTree = async (dir: string): Promise<string> => {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  const parts = await Promise.all(
    entries.filter((e) => e.isFile()).map((e) => fs.readFile(path.join(e.parentPath, e.name), "latin1"))
  )
  return parts.join("\n")
}

/** A session's cache file with its `-wal` and `-shm`, as latin1 text (missing files → empty). */
const readSessionCache = (dataDir: string, tenant: string, session: string) =>
  Promise.all(
    ["", "-wal", "-shm"].map((suffix) =>
      fs
        .readFile(path.join(dataDir, "tenants", tenant, "sessions", `${session}.sqlite${suffix}`), "latin1")
        .catch(() => "")
    )
  ).then((parts) => parts.join("\n"))

/**
 * Scans for leaks. Cross-tenant: another tenant's canaries (tenant or session) in a tenant's task outputs,
 * traces or tenant directory (caches, outbox). Cross-session: another session's canary (same tenant) in a
 * session's outputs, traces or cache file. Call while the session caches still exist.
 */
export const scanLeaks = async (dataDir: string, prepared: PreparedDemo, drive: DriveResult) => {
  const sessionCanary = new Map(prepared.sessions.map((s) => [`${s.tenant}/${s.index}`, s.canary]))
  const canariesOf = (tenant: string) => [
    prepared.tenantCanaries[tenant] ?? "",
    ...prepared.sessions.filter((s) => s.tenant === tenant).map((s) => s.canary)
  ]
  let crossTenant = 0
  let crossSession = 0
  for (const tenant of prepared.options.tenants) {
    const mine = drive.results.filter((r) => r.tenant === tenant)
    const material =
      mine.map((r) => JSON.stringify(r.task) + JSON.stringify(r.trace)).join("\n") +
      (await readTree(path.join(dataDir, "tenants", tenant)))
    for (const other of prepared.options.tenants) {
      if (other === tenant) continue
      for (const canary of canariesOf(other)) crossTenant += count(material, canary)
    }
  }
  for (const s of drive.sessionIds) {
    const mine = drive.results.filter((r) => r.sessionId === s.id)
    const material =
      mine.map((r) => JSON.stringify(r.task) + JSON.stringify(r.trace)).join("\n") +
      (await readSessionCache(dataDir, s.tenant, s.id))
    for (const other of drive.sessionIds) {
      if (other.tenant !== s.tenant || other.id === s.id) continue
      crossSession += count(material, sessionCanary.get(`${other.tenant}/${other.index}`) ?? "\u0000")
    }
  }
  return { crossTenant, crossSession }
}

/** Builds the report from the drive's results plus what only the broker knows. */
export const buildReport = (input: {
  readonly prepared: PreparedDemo
  readonly drive: DriveResult
  readonly leaks: { crossTenant: number; crossSession: number }
  readonly liveCredentialsAfterRun: number
  readonly auditChainValid: boolean
  readonly elapsedMs: number
}): DemoReport => {
  const { results } = input.drive
  const succeeded = results.filter((r) => r.task.status === "succeeded")
  const events = results.flatMap((r) => r.trace.events)
  const byCode: Record<string, number> = {}
  for (const e of events) {
    if (e.status !== "deny") continue
    const code = String((e.attrs as { code?: unknown }).code ?? "E_UNKNOWN")
    byCode[code] = (byCode[code] ?? 0) + 1
  }
  const scored = succeeded.filter((r) => !r.message.injected)
  const correct = scored.filter(
    (r) => (r.task.output as { label?: string } | null)?.label === r.message.label
  ).length
  return {
    tenants: input.prepared.options.tenants.length,
    sessions: input.drive.sessionIds.length,
    tasks: {
      submitted: results.length,
      succeeded: succeeded.length,
      failed: results.length - succeeded.length
    },
    handoffs: events.filter((e) => e.kind === "handoff" && e.status === "ok" && e.name.startsWith("→"))
      .length,
    toolCalls: events.filter((e) => e.kind === "tool").length,
    denials: { total: Object.values(byCode).reduce((a, b) => a + b, 0), byCode },
    classification: {
      accuracy: scored.length === 0 ? 0 : Math.round((correct / scored.length) * 10_000) / 10_000,
      scored: scored.length
    },
    leaks: input.leaks,
    liveCredentialsAfterRun: input.liveCredentialsAfterRun,
    auditChainValid: input.auditChainValid,
    elapsedMs: input.elapsedMs
  }
}
