/**
 * IP-01 — a tool adapter holding a platform-wide credential returns another tenant's object: `docs.get`
 * looks a document up by id in every tenant's store and never checks the tenant. The runtime re-checks
 * every record a result declares (`resultRecords`) against the TOKEN's tenant before the agent sees it:
 * one foreign record withholds the whole result with `E_TENANT_MISMATCH`, audited as token tenant vs
 * record tenant; the planted canary reaches neither the agent, nor its session cache, nor any log.
 */
import { Orchestrator } from "@cordon/runtime/Orchestrator"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { seedDoc } from "../../fixtures/gateTeam.js"
import { assertOracles, auditSeq, canary } from "../support/oracles.js"
import { A, B, type Gate, startGate } from "./support.js"

let gate: Gate
const victimCanary = canary(B)
const ownCanary = canary(A)

beforeAll(async () => {
  gate = await startGate()
  seedDoc(gate.broker.dataDir, { id: "B-123", tenant: B, body: `quarterly numbers ${victimCanary}` })
  seedDoc(gate.broker.dataDir, { id: "A-1", tenant: A, body: `our notes ${ownCanary}` })
})
afterAll(() => gate.stop())

/** How often each needle occurs in the decrypted cache of `session` (a counts-only probe). */
const cacheHits = (session: string, needles: ReadonlyArray<string>) =>
  gate.broker.runtime.runPromise(
    Effect.flatMap(Orchestrator, (o) =>
      o.scanSessionCache({ tenant: A, user: `user-${A}` }, session, needles)
    )
  )

/** Reads document `id` as tenant A and stores what it read in the session cache. */
const readAndRemember = (session: string, id: string) =>
  gate.run(A, {
    agent: "runner",
    intent: "gate.probe",
    session,
    input: { calls: [{ tool: "docs.get", args: { id } }], remember: true }
  })

describe("IP-01 foreign records in a tool result", () => {
  it("IP-01 B-123 read from tenant A → E_TENANT_MISMATCH; result withheld; audit: tenant A vs record tenant B", async () => {
    const session = await gate.session(A)
    const seq = auditSeq(gate.broker.dataDir)
    const res = await readAndRemember(session, "B-123")
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_TENANT_MISMATCH")
    expect(res.output).toBeNull()
    expect(res.text).not.toContain(victimCanary)

    const denies = gate.denies(A, seq)
    expect(denies).toHaveLength(1)
    expect(denies[0]).toMatchObject({
      tenant: A,
      action: "AccessRecord",
      resource: `${B}/Doc/B-123`,
      errorCode: "E_TENANT_MISMATCH"
    })
    expect(denies[0]?.reason).toBe(`result record of tenant ${B} withheld from tenant ${A}`)

    // The agent never got the document: nothing reached its session cache, its trace or any log.
    expect(await cacheHits(session, [victimCanary])).toEqual([0])
    const trace = await gate.trace(A, res.id)
    expect(JSON.stringify(trace)).not.toContain(victimCanary)
    expect(trace.some((e) => e.kind === "tool" && e.name === "docs.get" && e.status === "deny")).toBe(true)
    expect(trace.some((e) => e.kind === "tool" && e.name === "memo.save")).toBe(false)
    assertOracles(gate.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_TENANT_MISMATCH", resource: `${B}/Doc/B-123` }],
      viewer: A,
      texts: { response: res.text, trace: JSON.stringify(trace) },
      tenant: A,
      settled: true
    })
  })

  it("IP-01 the tenant's own document passes the re-check and reaches the agent and its cache", async () => {
    const session = await gate.session(A)
    const res = await readAndRemember(session, "A-1")
    expect(res.status).toBe("succeeded")
    expect(res.text).toContain(ownCanary)
    expect(await cacheHits(session, [ownCanary, victimCanary])).toEqual([1, 0])
  })
})
