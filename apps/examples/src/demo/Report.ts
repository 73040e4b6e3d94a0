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

/** Counts each needle in a session's decrypted cache (the broker's leak probe; counts only). */
export type CacheProbe = (
  tenant: string,
  session: string,
  needles: ReadonlyArray<string>
) => Promise<ReadonlyArray<number>>

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

/**
 * Scans for leaks. Cross-tenant: another tenant's canaries (tenant or session) in a tenant's task outputs,
 * traces, tenant directory (raw bytes: cache files, outbox) or decrypted session caches. Cross-session:
 * another session's canary (same tenant) in a session's outputs, traces, cache file bytes or decrypted
 * cache. `ownCacheHits` counts each session's own canary in its decrypted cache: a positive control that the
 * probe really reads the caches. Call while the session caches still exist.
 */
export const scanLeaks = async (
  dataDir: string,
  prepared: PreparedDemo,
  drive: DriveResult,
  probe: CacheProbe
) => {
  const sessionCanary = new Map(prepared.sessions.map((s) => [`${s.tenant}/${s.index}`, s.canary]))
  const canariesOf = (tenant: string) => [
    prepared.tenantCanaries[tenant] ?? "",
    ...prepared.sessions.filter((s) => s.tenant === tenant).map((s) => s.canary)
  ]
  let crossTenant = 0
  let crossSession = 0
  let ownCacheHits = 0
  for (const tenant of prepared.options.tenants) {
    const mine = drive.results.filter((r) => r.tenant === tenant)
    const material =
      mine.map((r) => JSON.stringify(r.task) + JSON.stringify(r.trace)).join("\n") +
      (await readTree(path.join(dataDir, "tenants", tenant)))
    const foreign = prepared.options.tenants.filter((t) => t !== tenant).flatMap(canariesOf)
    for (const canary of foreign) crossTenant += count(material, canary)
    for (const s of drive.sessionIds.filter((x) => x.tenant === tenant)) {
      crossTenant += sum(await probe(tenant, s.id, foreign))
    }
  }
  for (const s of drive.sessionIds) {
    const mine = drive.results.filter((r) => r.sessionId === s.id)
    const material =
      mine.map((r) => JSON.stringify(r.task) + JSON.stringify(r.trace)).join("\n") +
      (await readSessionCache(dataDir, s.tenant, s.id))
    const others = drive.sessionIds
      .filter((o) => o.tenant === s.tenant && o.id !== s.id)
      .map((o) => sessionCanary.get(`${o.tenant}/${o.index}`) ?? "\u0000")
    for (const canary of others) crossSession += count(material, canary)
    crossSession += sum(await probe(s.tenant, s.id, others))
    ownCacheHits += sum(
      await probe(s.tenant, s.id, [sessionCanary.get(`${s.tenant}/${s.index}`) ?? "\u0000"])
    )
  }
  return { crossTenant, crossSession, ownCacheHits }
}

/** Builds the report from the drive's results plus what only the broker knows. */
export const buildReport = (input: {
  readonly prepared: PreparedDemo
  readonly drive: DriveResult
  readonly leaks: { crossTenant: number; crossSession: number; ownCacheHits?: number }
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
    leaks: { crossTenant: input.leaks.crossTenant, crossSession: input.leaks.crossSession },
    liveCredentialsAfterRun: input.liveCredentialsAfterRun,
    auditChainValid: input.auditChainValid,
    elapsedMs: input.elapsedMs
  }
}
