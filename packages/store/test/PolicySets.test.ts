import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { afterAll } from "vitest"
import { type ApprovalRow, Approvals, ControlPlane, PolicySets } from "../src/index.js"
import { cleanupTempDirs, tempDbFile } from "./fixtures.js"

afterAll(cleanupTempDirs)

const layer = () =>
  Layer.mergeAll(PolicySets.layer, Approvals.layer).pipe(
    Layer.provideMerge(ControlPlane.layer({ filename: tempDbFile() }))
  )

describe("PolicySets", () => {
  it.effect("numbers versions per tenant, keeps them, activates atomically and rolls back", () =>
    Effect.gen(function* () {
      const sets = yield* PolicySets
      const v1 = yield* sets.create({ tenant: "acme", text: "one", createdBy: "alice" })
      const v2 = yield* sets.create({ tenant: "acme", text: "two", createdBy: "alice" })
      const g1 = yield* sets.create({ tenant: "globex", text: "g", createdBy: "bob" })
      expect([v1.version, v2.version, g1.version]).toEqual([1, 2, 1])
      expect(Option.isNone(yield* sets.active("acme"))).toBe(true)
      expect(yield* sets.activate({ tenant: "acme", version: 2, activatedBy: "alice" })).toBe(true)
      expect(Option.getOrThrow(yield* sets.active("acme"))).toMatchObject({ version: 2, text: "two" })
      expect(yield* sets.activate({ tenant: "acme", version: 1, activatedBy: "alice" })).toBe(true)
      expect(Option.getOrThrow(yield* sets.active("acme"))).toMatchObject({ version: 1, text: "one" })
      // Another tenant's version cannot be activated for acme.
      expect(yield* sets.activate({ tenant: "acme", version: 7, activatedBy: "alice" })).toBe(false)
      expect((yield* sets.list("acme")).map((v) => v.version)).toEqual([2, 1])
      expect((yield* sets.allActive()).map((a) => a.tenant)).toEqual(["acme"])
    }).pipe(Effect.provide(layer()))
  )
})

const row = (overrides: Partial<ApprovalRow> = {}): ApprovalRow => ({
  id: "apr-1",
  tenant: "acme",
  session: "s1",
  task: "t1",
  agent: "a",
  tool: "pay",
  args: '{"amount":9000}',
  actionHash: "h1",
  status: "pending",
  createdAt: 0,
  expiresAt: 300_000,
  decidedBy: null,
  decidedAt: null,
  usedAt: null,
  ...overrides
})

describe("Approvals", () => {
  it.effect("IP-07 decides once, is used once, only for its hash, only before expiry", () =>
    Effect.gen(function* () {
      const approvals = yield* Approvals
      yield* approvals.insert(row())
      yield* approvals.insert(row({ id: "apr-2" }))
      expect(
        Option.isNone(
          yield* approvals.decide({ tenant: "globex", id: "apr-1", verdict: "approved", by: "x", nowMs: 1 })
        )
      ).toBe(true)
      const approved = yield* approvals.decide({
        tenant: "acme",
        id: "apr-1",
        verdict: "approved",
        by: "alice",
        nowMs: 1
      })
      expect(Option.getOrThrow(approved)).toMatchObject({ status: "approved", decidedBy: "alice" })
      expect(
        Option.isNone(
          yield* approvals.decide({ tenant: "acme", id: "apr-1", verdict: "rejected", by: "eve", nowMs: 2 })
        )
      ).toBe(true)
      expect(
        Option.isNone(
          yield* approvals.markUsed({ tenant: "acme", id: "apr-1", actionHash: "other", nowMs: 3 })
        )
      ).toBe(true)
      expect(
        Option.isSome(yield* approvals.markUsed({ tenant: "acme", id: "apr-1", actionHash: "h1", nowMs: 3 }))
      ).toBe(true)
      expect(
        Option.isNone(yield* approvals.markUsed({ tenant: "acme", id: "apr-1", actionHash: "h1", nowMs: 4 }))
      ).toBe(true)
      yield* approvals.decide({ tenant: "acme", id: "apr-2", verdict: "approved", by: "alice", nowMs: 1 })
      expect(
        Option.isNone(
          yield* approvals.markUsed({ tenant: "acme", id: "apr-2", actionHash: "h1", nowMs: 300_000 })
        )
      ).toBe(true)
      expect((yield* approvals.list("acme", "used")).map((a) => a.id)).toEqual(["apr-1"])
      expect(yield* approvals.list("globex")).toEqual([])
    }).pipe(Effect.provide(layer()))
  )
})
