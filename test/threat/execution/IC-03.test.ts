/**
 * IC-03 — an unregistered sender injects messages as a trusted peer. The broker reads a worker only on the
 * channel it created, attributes a message only to a request it sent, and trusts no sender field: a
 * forged call claiming `from: "orchestrator"` is refused (`E_MESSAGE_INTEGRITY`), an answer to a request
 * never sent is refused as `unknown_sender`, and a `MessageChannel` the worker opens itself is closed
 * unread (`unknown_sender`). Each refusal is audited; the executor the impostor tried to start is never
 * instantiated and its side effect runs 0 times.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { assertOracles, auditRecords, auditSeq, sideEffects } from "../support/oracles.js"
import { type Hostile, startHostile } from "./hostileBroker.js"

let h: Hostile
beforeAll(async () => {
  h = await startHostile()
})
afterAll(() => h.stop())

/** Nothing ever decided to start the executor (no instantiation record for the impostor's target). */
const executorNeverStarted = (seq: number) =>
  expect(auditRecords(h.broker.dataDir, seq).filter((r) => r.resource.includes("executor"))).toEqual([])

describe("IC-03 forged senders", () => {
  it("IC-03 a forged call with from: orchestrator is refused, audited, and starts nothing", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const res = await h.run("tenant-a", { mode: "forge-sender" })
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_MESSAGE_INTEGRITY")
    expect(sideEffects(h.broker.dataDir, "tenant-a")).toEqual([])
    executorNeverStarted(seq)
    assertOracles(h.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: "tenant-a", code: "E_MESSAGE_INTEGRITY", action: "WorkerMessage" }],
      viewer: "tenant-a",
      texts: { response: JSON.stringify(res) }
    })
  })

  it("IC-03 an answer to a request the broker never sent is refused as unknown_sender and audited", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const res = await h.run("tenant-a", { mode: "forge-id" })
    expect(res.status).toBe("succeeded")
    expect(sideEffects(h.broker.dataDir, "tenant-a")).toEqual([])
    executorNeverStarted(seq)
    const refused = auditRecords(h.broker.dataDir, seq).filter((r) => r.errorCode === "E_MESSAGE_INTEGRITY")
    expect(refused.map((r) => [r.tenant, r.reason])).toEqual([["tenant-a", "unknown_sender"]])
  })

  it("IC-03 a MessageChannel opened by worker code is closed unread and audited; nothing runs", async () => {
    const seq = auditSeq(h.broker.dataDir)
    const res = await h.run("tenant-a", { mode: "own-channel" })
    expect(res.status).toBe("succeeded")
    expect(sideEffects(h.broker.dataDir, "tenant-a")).toEqual([])
    executorNeverStarted(seq)
    const refused = auditRecords(h.broker.dataDir, seq).filter((r) => r.errorCode === "E_MESSAGE_INTEGRITY")
    expect(refused.map((r) => [r.tenant, r.reason, r.decision])).toEqual([
      ["tenant-a", "unknown_sender", "deny"]
    ])
  })
})
