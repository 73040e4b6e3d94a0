/**
 * IC-01 — a message between agents is altered or smuggles instructions. Agent code in the worker rewrites
 * the runtime's own outgoing tool request: a byte flipped in its token chain fails verification at the
 * broker (the existing `E_TOKEN_INVALID` / `E_DELEGATION_CHAIN` codes); an extra `system_override` field is
 * refused by the broker's strict decoding (`E_MESSAGE_INTEGRITY`, reason `schema`), the run is stopped
 * (quarantined) and the refusal audited. Either way the side effect runs 0 times.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { assertOracles, auditRecords, auditSeq, sideEffects } from "../support/oracles.js"
import { type Hostile, startHostile } from "./hostileBroker.js"

let h: Hostile
beforeAll(async () => {
  h = await startHostile()
})
afterAll(() => h.stop())

describe("IC-01 tampered worker messages", () => {
  it("IC-01 a byte flipped in the token chain of a tool request fails verification; side effect 0; audited", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const res = await h.run("tenant-a", { mode: "tamper-chain" })
    expect(res.status).toBe("failed")
    expect(["E_TOKEN_INVALID", "E_DELEGATION_CHAIN"]).toContain(res.error?.code)
    expect(sideEffects(h.broker.dataDir, "tenant-a")).toEqual([])
    assertOracles(h.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: "tenant-a", code: res.error?.code ?? "?", action: "InvokeTool" }],
      viewer: "tenant-a",
      texts: { response: JSON.stringify(res) }
    })
  })

  it("IC-01 an extra field in a worker message is refused (E_MESSAGE_INTEGRITY schema), never executed, audited", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const res = await h.run("tenant-a", { mode: "extra-field" })
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_MESSAGE_INTEGRITY")
    expect(sideEffects(h.broker.dataDir, "tenant-a")).toEqual([])
    assertOracles(h.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: "tenant-a", code: "E_MESSAGE_INTEGRITY", action: "WorkerMessage" }],
      viewer: "tenant-a",
      texts: { response: JSON.stringify(res) }
    })
    const record = auditRecords(h.broker.dataDir, seq).find((r) => r.errorCode === "E_MESSAGE_INTEGRITY")
    expect(record).toMatchObject({ reason: "schema", resource: "tenant-a/Worker/RunAgent" })
    // The smuggled request never reached the gate: no tool decision was made for it.
    expect(auditRecords(h.broker.dataDir, seq).filter((r) => r.action === "InvokeTool")).toEqual([])
  })
})
