import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { type TraceEvent, TraceStore } from "../src/index.js"
import { backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

const span = (spanId: string, overrides: Partial<TraceEvent> = {}): TraceEvent => ({
  txn: "t1",
  tenant: "acme",
  spanId,
  parentSpanId: null,
  kind: "task",
  name: "triage-inbox",
  status: "running",
  attrs: { agent: "triage" },
  startMs: 1_000,
  endMs: null,
  ...overrides
})

const JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

for (const backend of backends) {
  describe(`TraceStore (${backend.name})`, () => {
    it.effect("append and end build the tenant's trace in insertion order", () =>
      Effect.gen(function* () {
        const traces = yield* TraceStore
        const a = yield* traces.append(span("root"))
        const b = yield* traces.append(
          span("tool-1", { parentSpanId: "root", kind: "tool", name: "outbox.draft", startMs: 1_010 })
        )
        expect(b).toBeGreaterThan(a)
        expect(
          yield* traces.end("tool-1", { status: "deny", endMs: 1_020, attrs: { code: "E_POLICY_DENY" } })
        ).toBe(true)
        expect(yield* traces.end("root", { status: "ok", endMs: 1_030 })).toBe(true)
        expect(yield* traces.end("root", { status: "error", endMs: 9_999 })).toBe(false)
        expect(yield* traces.end("missing", { status: "ok", endMs: 1 })).toBe(false)
        expect(yield* traces.list("acme", "t1")).toEqual([
          span("root", { status: "ok", endMs: 1_030 }),
          span("tool-1", {
            parentSpanId: "root",
            kind: "tool",
            name: "outbox.draft",
            startMs: 1_010,
            status: "deny",
            endMs: 1_020,
            attrs: { agent: "triage", code: "E_POLICY_DENY" }
          })
        ])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("IP-01 store reads: another tenant's trace is empty", () =>
      Effect.gen(function* () {
        const traces = yield* TraceStore
        yield* traces.append(span("g-root", { tenant: "globex", txn: "shared-txn" }))
        expect(yield* traces.list("acme", "shared-txn")).toEqual([])
        expect(yield* traces.list("globex", "shared-txn")).toHaveLength(1)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("token-shaped text in name and attrs is never stored", () =>
      Effect.gen(function* () {
        const traces = yield* TraceStore
        yield* traces.append(
          span("root", { name: `call ${JWT}`, attrs: { header: `Bearer ${JWT}`, n: [JWT] } })
        )
        yield* traces.end("root", { status: "error", endMs: 2_000, attrs: { error: `bad token ${JWT}` } })
        const stored = JSON.stringify(yield* traces.list("acme", "t1"))
        expect(stored).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./)
        expect(stored).toContain("[REDACTED]")
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
