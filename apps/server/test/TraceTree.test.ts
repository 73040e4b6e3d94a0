import { describe, expect, it } from "vitest"
import { renderTraceTree } from "../src/TraceTree.js"

const span = (
  spanId: string,
  parentSpanId: string | null,
  kind: string,
  name: string,
  status: string,
  attrs = {}
) => ({
  spanId,
  parentSpanId,
  kind,
  name,
  status,
  attrs,
  startMs: 1000,
  endMs: 1010
})

describe("renderTraceTree", () => {
  it("nests agents, handoffs, tools, denials and revocations under the task", () => {
    const text = renderTraceTree({
      task: {
        id: "task-1",
        tenant: "acme",
        session: "s-1",
        agent: "triage",
        intent: "mail.process",
        status: "succeeded",
        output: null,
        error: null,
        createdAt: 0,
        attempts: 1,
        endedAt: 1
      },
      events: [
        span("a", null, "task", "triage · mail.process", "ok"),
        span("b", "a", "agent", "triage", "ok"),
        span("c", "b", "policy", "AccessRecord Mailbox globex", "deny", {
          code: "E_TENANT_MISMATCH",
          policies: ["platform.cross-tenant"]
        }),
        span("d", "b", "handoff", "→ summarizer", "ok", {
          jti: "abcdefgh",
          scopes: ["cache:write"],
          exp: 0,
          depth: 1
        }),
        span("e", "d", "tool", "cache.remember", "ok"),
        span("f", "a", "revocation", "revoke abcdefgh", "ok", { reason: "task_complete" })
      ]
    })
    expect(text.split("\n")).toEqual([
      "task task-1  tenant=acme session=s-1 status=succeeded",
      "└─ ✓ task triage · mail.process 10ms",
      "   ├─ ✓ agent triage 10ms",
      "   │  ├─ ⛔ DENY AccessRecord Mailbox globex code=E_TENANT_MISMATCH policy=platform.cross-tenant +0ms",
      "   │  └─ ✓ handoff → summarizer jti=abcdefgh scp=[cache:write] exp=00:00:00Z depth=1 +0ms",
      "   │     └─ ✓ tool cache.remember 10ms",
      "   └─ ✓ revoke abcdefgh (task_complete) +0ms"
    ])
  })
})
