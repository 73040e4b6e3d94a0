/**
 * OR-01: credentials do not outlive their task. When a task completes, every token minted for it (root,
 * handoffs, per-call tokens) is revoked with reason `task_complete` — in the store, in the broker's
 * revocation list and in the tenant's worker — and one `task.teardown` audit record carries the count.
 * (Verification refuses a revoked `jti` with `E_TOKEN_REVOKED` whatever presents it: see the identity rows.)
 */
import { RevocationList } from "@cordon/identity/RevocationList"
import { Credentials } from "@cordon/store/Credentials"
import { Effect } from "effect"
import Database from "better-sqlite3"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auditRows } from "./store.js"
import { startLifecycleBroker } from "./support.js"

let t: Awaited<ReturnType<typeof startLifecycleBroker>>

beforeAll(async () => {
  t = await startLifecycleBroker()
})

afterAll(() => t.broker.stop())

const credentialsOf = (task: string) => {
  const db = new Database(path.join(t.broker.dataDir, "control-plane.sqlite"), { readonly: true })
  try {
    return db
      .prepare("SELECT jti, revoked_at, revoke_reason FROM credentials WHERE task = ?")
      .all(task) as Array<{
      jti: string
      revoked_at: number | null
      revoke_reason: string | null
    }>
  } finally {
    db.close()
  }
}

describe("OR-01 teardown on completion", () => {
  it("OR-01 every credential of a finished task is revoked (task_complete) and the teardown record counts them", async () => {
    const bearer = await t.bearerOf("acme")
    const session = await t.openSession(bearer)
    const id = String((await t.submit(bearer, session, { mode: "fanout", count: 2, label: "or01" })).body.id)
    expect((await t.broker.settle(id, bearer)).body.status).toBe("succeeded")
    const minted = credentialsOf(id)
    // Root, two handoffs, and a per-call token for each helper's tool call.
    expect(minted.length).toBeGreaterThanOrEqual(5)
    expect(minted.every((c) => c.revoked_at !== null && c.revoke_reason === "task_complete")).toBe(true)
    const reasons = await t.broker.runtime.runPromise(
      Effect.map(RevocationList, (list) => minted.map((c) => list.reasonOf(c.jti)))
    )
    expect(reasons.every((r) => r === "task_complete")).toBe(true)
    const teardown = auditRows(t.broker.dataDir, "acme", "task.teardown").filter((r) =>
      r.resource.endsWith(id)
    )
    expect(teardown).toHaveLength(1)
    expect(JSON.parse(teardown[0]?.reason ?? "{}").revoked).toBe(minted.length)
    const live = await t.broker.runtime.runPromise(
      Effect.flatMap(Credentials, (c) => c.liveCount(Math.floor(Date.now() / 1000), "acme"))
    )
    expect(live).toBe(0)
  })
})
