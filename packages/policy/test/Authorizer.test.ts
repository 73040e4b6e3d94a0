import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import {
  Authorizer,
  MaxDepth,
  type PolicyRequestInput as PolicyRequest,
  policyVersionOf
} from "../src/index.js"
import { agent, context, invokeTool, targetAgent } from "./fixtures.js"

const authorize = (req: PolicyRequest) => Effect.flatMap(Authorizer, (a) => a.authorize(req))

/** A handoff from acme's `triage` (may hand off to `summarizer`) to `target`. */
const handoff = (
  target: ReturnType<typeof targetAgent>,
  agents: ReadonlyArray<string> = ["triage", "summarizer", "billing"]
): PolicyRequest => ({
  principal: agent("acme", "triage", ["summarizer"]),
  action: "Handoff",
  resource: target,
  context: context("acme", {
    intent: { name: "summarize-inbox", tools: ["mail.read"], agents }
  })
})

layer(Authorizer.layer)("Authorizer (platform policies)", (it) => {
  it.effect("allows a same-tenant tool that the intent allows", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(invokeTool("mail.read"))
      expect(decision).toEqual({
        decision: "allow",
        code: null,
        determiningPolicies: ["platform.baseline"],
        policyVersion: (yield* Authorizer).policyVersion,
        errors: []
      })
    })
  )

  it.effect("allows every Cordon action on a same-tenant resource of the right type", () =>
    Effect.gen(function* () {
      const base = { principal: agent("acme", "triage"), context: context("acme") }
      const session = { type: "Session" as const, tenant: "acme", id: "sess-1" }
      const requests: ReadonlyArray<PolicyRequest> = [
        { ...base, action: "StartTask", resource: session },
        { ...base, action: "ReadCache", resource: session },
        { ...base, action: "WriteCache", resource: session },
        { ...base, action: "AccessRecord", resource: { type: "Mailbox", tenant: "acme", id: "mbx-1" } }
      ]
      for (const req of requests) {
        expect((yield* authorize(req)).decision, req.action).toBe("allow")
      }
    })
  )

  it.effect("IP-05 denies a tool outside the intent with E_TOOL_NOT_ALLOWED", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(invokeTool("mail.send"))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_TOOL_NOT_ALLOWED")
      expect(decision.determiningPolicies).toEqual(["platform.intent-tool"])
    })
  )

  it.effect("IP-05 treats a tool name as data: Cedar syntax in it neither parses nor matches", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(invokeTool('mail.read" }; permit (principal, action, resource); //'))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_TOOL_NOT_ALLOWED")
    })
  )

  it.effect("DS-05 denies access to another tenant's record with E_TENANT_MISMATCH", () =>
    Effect.gen(function* () {
      const decision = yield* authorize({
        principal: agent("acme", "triage"),
        action: "AccessRecord",
        resource: { type: "Mailbox", tenant: "globex", id: "B-123" },
        context: context("acme")
      })
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_TENANT_MISMATCH")
      expect(decision.determiningPolicies).toEqual(["platform.cross-tenant"])
    })
  )

  it.effect("DS-05 denies another tenant's tool, session cache and a foreign task context", () =>
    Effect.gen(function* () {
      const foreignTool = yield* authorize({
        ...invokeTool("mail.read"),
        resource: { type: "Tool", tenant: "globex", name: "mail.read" }
      })
      const foreignCache = yield* authorize({
        principal: agent("acme", "triage"),
        action: "ReadCache",
        resource: { type: "Session", tenant: "globex", id: "sess-1" },
        context: context("acme")
      })
      const foreignContext = yield* authorize({ ...invokeTool("mail.read"), context: context("globex") })
      for (const decision of [foreignTool, foreignCache, foreignContext]) {
        expect(decision.decision).toBe("deny")
        expect(decision.code).toBe("E_TENANT_MISMATCH")
        expect(decision.determiningPolicies).toContain("platform.cross-tenant")
      }
    })
  )

  it.effect("DS-05 denies a handoff to another tenant's agent with E_TENANT_MISMATCH", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(handoff(targetAgent("globex", "summarizer")))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_TENANT_MISMATCH")
      expect(decision.determiningPolicies).toEqual(["platform.cross-tenant"])
    })
  )

  it.effect("allows a handoff along the graph to an agent of the intent", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(handoff(targetAgent("acme", "summarizer")))
      expect(decision.decision).toBe("allow")
      expect(decision.code).toBeNull()
    })
  )

  it.effect("DS-04 denies a handoff outside the principal's handoff graph with E_HANDOFF_DENIED", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(handoff(targetAgent("acme", "billing")))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_HANDOFF_DENIED")
      expect(decision.determiningPolicies).toEqual(["platform.handoff-graph"])
    })
  )

  it.effect("IP-05 denies a handoff to an agent outside the intent (platform.intent-agent)", () =>
    Effect.gen(function* () {
      const decision = yield* authorize(handoff(targetAgent("acme", "summarizer"), ["triage"]))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_POLICY_DENY")
      expect(decision.determiningPolicies).toEqual(["platform.intent-agent"])
    })
  )

  it.effect("IP-05 denies StartTask for an agent outside the intent (platform.intent-agent)", () =>
    Effect.gen(function* () {
      const decision = yield* authorize({
        principal: agent("acme", "billing"),
        action: "StartTask",
        resource: { type: "Session", tenant: "acme", id: "sess-1" },
        context: context("acme")
      })
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_POLICY_DENY")
      expect(decision.determiningPolicies).toEqual(["platform.intent-agent"])
    })
  )

  it.effect(`DS-03 allows depth ${MaxDepth} and denies depth ${MaxDepth + 1} (platform.depth)`, () =>
    Effect.gen(function* () {
      const at = (depth: number) => ({ ...invokeTool("mail.read"), context: context("acme", { depth }) })
      expect((yield* authorize(at(MaxDepth))).decision).toBe("allow")
      const decision = yield* authorize(at(MaxDepth + 1))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_POLICY_DENY")
      expect(decision.determiningPolicies).toEqual(["platform.depth"])
    })
  )

  it.effect("reports every satisfied forbid and picks the code by precedence", () =>
    Effect.gen(function* () {
      const decision = yield* authorize({
        ...invokeTool("mail.send"),
        resource: { type: "Tool", tenant: "globex", name: "mail.send" },
        context: context("acme", { depth: MaxDepth + 1 })
      })
      expect(decision.code).toBe("E_TENANT_MISMATCH")
      expect(decision.determiningPolicies).toEqual([
        "platform.cross-tenant",
        "platform.depth",
        "platform.intent-tool"
      ])
    })
  )
})

describe("Authorizer fails closed", () => {
  const malformed: ReadonlyArray<readonly [string, unknown]> = [
    [
      "principal without handoffs",
      { ...invokeTool("mail.read"), principal: { ...agent("acme", "triage"), handoffs: undefined } }
    ],
    [
      "tenant of the wrong type",
      { ...invokeTool("mail.read"), principal: { ...agent("acme", "triage"), tenant: 7 } }
    ],
    ["depth as a string", { ...invokeTool("mail.read"), context: { ...context("acme"), depth: "0" } }],
    ["fractional depth", { ...invokeTool("mail.read"), context: { ...context("acme"), depth: 0.5 } }],
    ["negative depth", { ...invokeTool("mail.read"), context: { ...context("acme"), depth: -1 } }],
    [
      "intent without tools",
      { ...invokeTool("mail.read"), context: { ...context("acme"), intent: { name: "i", agents: [] } } }
    ],
    ["missing context", { ...invokeTool("mail.read"), context: undefined }],
    ["unknown action", { ...invokeTool("mail.read"), action: "DeleteTenant" }],
    ["empty tenant", { ...invokeTool("mail.read", ""), context: context("") }],
    [
      "resource type not valid for the action",
      { ...invokeTool("mail.read"), resource: { type: "Mailbox", tenant: "acme", id: "m" } }
    ],
    [
      "an entity uid with two different shapes",
      {
        principal: agent("acme", "triage", ["triage"]),
        action: "Handoff",
        resource: { ...targetAgent("acme", "triage"), name: "summarizer" },
        context: context("acme")
      }
    ]
  ]

  for (const [name, req] of malformed) {
    it.effect(`denies a request with ${name} as E_POLICY_EVALUATION`, () =>
      Effect.gen(function* () {
        const authorizer = yield* Authorizer.make()
        const decision = yield* authorizer.authorize(req as PolicyRequest)
        expect(decision.decision).toBe("deny")
        expect(decision.code).toBe("E_POLICY_EVALUATION")
        expect(decision.determiningPolicies).toEqual([])
        expect(decision.errors.length).toBeGreaterThan(0)
      })
    )
  }

  it.effect("denies when a tenant forbid errors at evaluation time, although a permit matched", () =>
    Effect.gen(function* () {
      // Long overflow: the forbid errors for every `now` > 0; Cedar skips it and would allow.
      const authorizer = yield* Authorizer.make({
        extraPolicies: `@id("acme.overflow")
forbid (principal, action, resource) when { context.now + 9223372036854775807 > 0 };`
      })
      const decision = yield* authorizer.authorize(invokeTool("mail.read"))
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_POLICY_EVALUATION")
      expect(decision.errors.join("\n")).toContain("acme.overflow")
    })
  )
})

describe("policy version", () => {
  it("is a stable 16-hex-digit digest of the policy text", () => {
    expect(policyVersionOf("permit (principal, action, resource);")).toMatch(/^[0-9a-f]{16}$/)
    expect(policyVersionOf("a")).toBe(policyVersionOf("a"))
    expect(policyVersionOf("a")).not.toBe(policyVersionOf("b"))
  })

  it.effect("is the same for the same policy text and differs when the text differs", () =>
    Effect.gen(function* () {
      const first = yield* Authorizer.make()
      const second = yield* Authorizer.make()
      const extra = `@id("acme.noop") forbid (principal, action, resource) when { false };`
      const extended = yield* Authorizer.make({ extraPolicies: extra })
      const extendedAgain = yield* Authorizer.make({ extraPolicies: extra })
      expect(first.policyVersion).toBe(second.policyVersion)
      expect(extended.policyVersion).toBe(extendedAgain.policyVersion)
      expect(extended.policyVersion).not.toBe(first.policyVersion)
      expect((yield* extended.authorize(invokeTool("mail.read"))).policyVersion).toBe(extended.policyVersion)
    })
  )

  it.effect("IP-06 a policy change between two calls denies the second under the new version", () =>
    Effect.gen(function* () {
      const before = yield* Authorizer.make()
      const after = yield* Authorizer.make({
        extraPolicies: `@id("acme.revoke-mail-read")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when { resource.name == "mail.read" };`
      })
      const step1 = yield* before.authorize(invokeTool("mail.read"))
      const step2 = yield* after.authorize(invokeTool("mail.read"))
      expect(step1.decision).toBe("allow")
      expect(step2).toMatchObject({
        decision: "deny",
        code: "E_POLICY_DENY",
        determiningPolicies: ["acme.revoke-mail-read"],
        policyVersion: after.policyVersion
      })
      expect(step2.policyVersion).not.toBe(step1.policyVersion)
    })
  )
})
