/** Shared set-up of the policy threat tests: a broker running the policy team, tokens, task helpers. */
import type { CallerRole } from "@cordon/runtime/CallerTokens"
import { CallerTokens } from "@cordon/runtime/CallerTokens"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { startBroker, type TestBroker } from "../../support/broker.js"
import { auditRecords } from "../support/oracles.js"
import { bundleWorker } from "../support/workers.js"
import { policyTeam } from "./team.js"

export const A = "tenant-a"
export const B = "tenant-b"

/** A broker with the policy team (task deadline 60 s: agents wait for the test). */
export const startPolicyBroker = () =>
  startBroker({
    team: policyTeam,
    workerEntry: bundleWorker(new URL("./worker.ts", import.meta.url), "policy-worker.mjs"),
    config: { taskTimeoutMs: 60_000 }
  })

/** `Bearer <caller token>` for `user` of `tenant` with `roles`. */
export const bearerOf = async (
  broker: TestBroker,
  tenant: string,
  user: string,
  roles: ReadonlyArray<CallerRole> = []
) =>
  `Bearer ${await broker.runtime.runPromise(Effect.flatMap(CallerTokens, (t) => t.mint(tenant, user, 3600, roles)))}`

/** Opens a session and submits `input` to `clerk` under `intent`; returns the task id (no waiting). */
export const submit = async (broker: TestBroker, bearer: string, intent: string, input: unknown) => {
  const session = String((await broker.http("POST", "/v1/sessions", {}, bearer)).body.id)
  const accepted = await broker.http("POST", "/v1/tasks", { session, agent: "clerk", intent, input }, bearer)
  if (accepted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(accepted.body)}`)
  return { task: String(accepted.body.id), session }
}

/** Uploads and activates `text` as the caller tenant's policy; returns the activation view. */
export const activatePolicy = async (broker: TestBroker, admin: string, text: string) => {
  const uploaded = await broker.http("POST", "/v1/policy/versions", { text }, admin)
  if (uploaded.status !== 201) throw new Error(`upload failed: ${JSON.stringify(uploaded.body)}`)
  const activated = await broker.http(
    "POST",
    `/v1/policy/versions/${uploaded.body.version}/activate`,
    undefined,
    admin
  )
  if (activated.status !== 200) throw new Error(`activate failed: ${JSON.stringify(activated.body)}`)
  return activated.body as { version: number; policyVersion: string }
}

/** The tenant directory the worker's tools write to (and the agents read markers from). */
export const tenantDir = (broker: TestBroker, tenant: string) => path.join(broker.dataDir, "tenants", tenant)

/** Writes marker `name` (the agents poll for it). */
export const mark = (broker: TestBroker, tenant: string, name: string, text = "go") => {
  fs.mkdirSync(tenantDir(broker, tenant), { recursive: true })
  fs.writeFileSync(path.join(tenantDir(broker, tenant), name), text)
}

/** Polls (≤ 20 s) until `check()` is defined. */
export const until = async <A>(check: () => A | undefined): Promise<A> => {
  for (let i = 0; i < 400; i++) {
    const value = check()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error("timed out waiting")
}

/** Audit records of one session after `afterSeq`. */
export const sessionRecords = (broker: TestBroker, session: string, afterSeq = 0) =>
  auditRecords(broker.dataDir, afterSeq).filter((r) => r.session === session)
