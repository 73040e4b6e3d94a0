/**
 * Shared steps of the cache threat tests: sessions and `cachebot` tasks through the real HTTP API, the
 * broker's counts-only leak probe, and byte scans of session cache files.
 */
import { sessionCacheFiles, sessionCachePath } from "@cordon/cache/CachePath"
import { Orchestrator } from "@cordon/runtime/Orchestrator"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { TestBroker } from "../../support/broker.js"

export interface Caller {
  readonly tenant: string
  readonly bearer: string
}

export const caller = async (broker: TestBroker, tenant: string): Promise<Caller> => ({
  tenant,
  bearer: `Bearer ${await broker.token(tenant)}`
})

export const openSession = async (broker: TestBroker, who: Caller) =>
  String((await broker.http("POST", "/v1/sessions", {}, who.bearer)).body.id)

export interface TaskView {
  readonly status: string
  readonly output: unknown
  readonly error: { readonly code?: string } | null
  readonly raw: string
}

/** Runs `cachebot` in `session` and waits for the task to end. */
export const cachebot = async (
  broker: TestBroker,
  who: Caller,
  session: string,
  input: unknown
): Promise<TaskView> => {
  const res = await broker.http(
    "POST",
    "/v1/tasks",
    { session, agent: "cachebot", intent: "cache.run", input, wait: true },
    who.bearer
  )
  const task =
    res.body.status === "queued" || res.body.status === "running"
      ? (await broker.settle(String(res.body.id), who.bearer)).body
      : res.body
  return {
    status: String(task.status),
    output: task.output,
    error: (task.error as TaskView["error"]) ?? null,
    raw: JSON.stringify(task)
  }
}

/** How often each needle occurs in the session's DECRYPTED cache (the broker's counts-only probe). */
export const scan = (broker: TestBroker, who: Caller, session: string, needles: ReadonlyArray<string>) =>
  broker.runtime.runPromise(
    Effect.flatMap(Orchestrator, (o) =>
      o.scanSessionCache({ tenant: who.tenant, user: `user-${who.tenant}` }, session, needles)
    ).pipe(Effect.either)
  )

export const cacheFiles = (broker: TestBroker, tenant: string, session: string) => {
  const file = sessionCachePath(broker.dataDir, tenant, session)
  if (Either.isLeft(file)) throw new Error("invalid ids")
  return sessionCacheFiles(file.right)
}

/** Files under `dir` (recursively) whose raw bytes contain `needle`. */
export const filesContaining = (dir: string, needle: string): Array<string> => {
  if (!fs.existsSync(dir)) return []
  const bytes = Buffer.from(needle, "utf8")
  const walk = (d: string): Array<string> =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(d, e.name)
      return e.isDirectory() ? walk(p) : e.isFile() ? [p] : []
    })
  return walk(dir).filter((f) => fs.readFileSync(f).includes(bytes))
}
