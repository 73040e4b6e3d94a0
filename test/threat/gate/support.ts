/**
 * The gate rows' harness: a real broker serving the gate team (test/fixtures/gateTeam.ts) on the test
 * worker bundle, two tenants (A attacker side, B victim side), and helpers to run a task and read what it
 * left behind (trace, audit records, counting logs).
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { gateTeam } from "../../fixtures/gateTeam.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"
import { auditRecords } from "../support/oracles.js"

/** Attacker-side tenant. */
export const A = "tenant-a"
/** Victim-side tenant. */
export const B = "tenant-b"

export interface TaskResult {
  readonly id: string
  readonly status: string
  readonly output: unknown
  readonly error: { readonly code: string; readonly message: string } | null
  /** The whole response body as text (for leak scans). */
  readonly text: string
}

export interface TraceEvent {
  readonly kind: string
  readonly name: string
  readonly status: string
  readonly attrs: Record<string, unknown>
}

export interface Gate {
  readonly broker: TestBroker
  readonly bearer: (tenant: string) => string
  readonly session: (tenant: string) => Promise<string>
  readonly run: (
    tenant: string,
    task: {
      readonly agent: string
      readonly intent: string
      readonly input: unknown
      readonly session?: string
    }
  ) => Promise<TaskResult>
  readonly trace: (tenant: string, taskId: string) => Promise<ReadonlyArray<TraceEvent>>
  /** Deny records of `tenant` after audit `seq` `afterSeq`. */
  readonly denies: (tenant: string, afterSeq: number) => ReturnType<typeof auditRecords>
  /** Lines of a counting log of `tenant` (`effects.log`, `outbound.log`, `payments.log`). */
  readonly count: (tenant: string, file: string) => ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

/** Starts the broker for the gate team with callers for tenants A and B. */
export const startGate = async (): Promise<Gate> => {
  const broker = await startBroker({ team: gateTeam, workerEntry: testWorkerEntry })
  const tokens = new Map<string, string>()
  for (const t of [A, B]) tokens.set(t, `Bearer ${await broker.token(t)}`)
  const bearer = (tenant: string) => tokens.get(tenant) ?? ""
  const session = async (tenant: string) =>
    String((await broker.http("POST", "/v1/sessions", {}, bearer(tenant))).body.id)
  return {
    broker,
    bearer,
    session,
    run: async (tenant, task) => {
      const sid = task.session ?? (await session(tenant))
      const res = await broker.http(
        "POST",
        "/v1/tasks",
        { session: sid, agent: task.agent, intent: task.intent, input: task.input, wait: true },
        bearer(tenant)
      )
      const body = res.body as unknown as Omit<TaskResult, "text">
      return { ...body, text: JSON.stringify(res.body) }
    },
    trace: async (tenant, taskId) => {
      const res = await broker.http("GET", `/v1/tasks/${taskId}/trace`, undefined, bearer(tenant))
      return (res.body.events ?? []) as ReadonlyArray<TraceEvent>
    },
    denies: (tenant, afterSeq) =>
      auditRecords(broker.dataDir, afterSeq).filter((r) => r.tenant === tenant && r.decision === "deny"),
    count: (tenant, file) => {
      const target = path.join(broker.dataDir, "tenants", tenant, file)
      return existsSync(target) ? readFileSync(target, "utf8").split("\n").filter(Boolean) : []
    },
    stop: () => broker.stop()
  }
}
