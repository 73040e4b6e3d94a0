/**
 * A real broker serving the hostile team (`test/fixtures/hostileTeam.ts`) for the execution threat rows,
 * with helpers to run one `hostile` task and wait for its end.
 */
import type { RuntimeConfigShape } from "@cordon/runtime/RuntimeConfig"
import { hostileTeam } from "../../fixtures/hostileTeam.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"

export interface Hostile {
  readonly broker: TestBroker
  /** Opens a session for `tenant` and runs `agent` (default `hostile`) with `input`; returns the task view. */
  readonly run: (
    tenant: string,
    input: Record<string, unknown>,
    agent?: string
  ) => Promise<{ status: string; error?: { code: string }; output?: unknown; id: string }>
  readonly stop: () => Promise<void>
}

export const startHostile = async (config: Partial<RuntimeConfigShape> = {}): Promise<Hostile> => {
  const broker = await startBroker({ team: hostileTeam, workerEntry: testWorkerEntry, config })
  const bearers = new Map<string, string>()
  const bearerOf = async (tenant: string) => {
    let bearer = bearers.get(tenant)
    if (bearer === undefined) {
      bearer = `Bearer ${await broker.token(tenant)}`
      bearers.set(tenant, bearer)
    }
    return bearer
  }
  return {
    broker,
    run: async (tenant, input, agent = "hostile") => {
      const bearer = await bearerOf(tenant)
      const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
      const submitted = await broker.http(
        "POST",
        "/v1/tasks",
        { session, agent, intent: "hostile.run", input },
        bearer
      )
      const id = String(submitted.body.id)
      const settled = await broker.settle(id, bearer)
      return { ...(settled.body as { status: string; error?: { code: string }; output?: unknown }), id }
    },
    stop: () => broker.stop()
  }
}
