import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import {
  CedarSchema,
  PlatformForbidIds,
  PlatformPolicies,
  PlatformPolicyId,
  PolicyRequest,
  type PolicyRequestInput
} from "../src/index.js"
import { type CedarCall, evaluate, load } from "../src/internal/CedarEngine.js"
import { toCedarCall } from "../src/internal/CedarRequest.js"
import { fromEvaluation } from "../src/internal/Decision.js"
import { agent, context, invokeTool, targetAgent } from "./fixtures.js"

// Acceptance (issue 4): for every platform `forbid`, a request missing an attribute that the forbid
// reads is denied. Cedar alone would skip a forbid whose condition errors and could allow; schema
// validation of the request plus the evaluation-error check must keep every such request denied.

const loadPlatform = load({
  schemaText: CedarSchema,
  schemaKey: "forbids-test",
  sources: [{ text: PlatformPolicies, origin: "platform" }],
  policyKey: "forbids-test",
  reservedPrefix: "platform."
})

const callOf = (req: PolicyRequestInput, suspended = false): CedarCall =>
  toCedarCall(Schema.decodeSync(PolicyRequest)(req), suspended) as CedarCall

type Mutation = (call: CedarCall) => CedarCall

/** Drops attribute `attr` of every entity of `type` (e.g. `Agent`, `Tenant`). */
const dropAttr =
  (type: string, attr: string): Mutation =>
  (call) => ({
    ...call,
    entities: call.entities.map((e) => {
      if (!("type" in e.uid) || e.uid.type !== `Cordon::${type}`) return e
      const { [attr]: _, ...rest } = e.attrs as Record<string, unknown>
      return { ...e, attrs: rest as typeof e.attrs }
    })
  })

/** Drops every entity of `type` (a dangling reference). */
const dropEntity =
  (type: string): Mutation =>
  (call) => ({
    ...call,
    entities: call.entities.filter((e) => !("type" in e.uid && e.uid.type === `Cordon::${type}`))
  })

/** Drops a context field. */
const dropContext =
  (field: string): Mutation =>
  (call) => {
    const { [field]: _, ...rest } = call.context as Record<string, unknown>
    return { ...call, context: rest as CedarCall["context"] }
  }

/** `triage` invoking `mail.read` declared with `risk`, with arguments marked tainted. */
const taintedCall = (risk: "low" | "high", tainted = true): PolicyRequestInput => ({
  ...invokeTool("mail.read"),
  resource: { type: "Tool", tenant: "acme", name: "mail.read", risk },
  context: context("acme", { tainted })
})

const handoffRequest = (target = "summarizer"): PolicyRequestInput => ({
  principal: agent("acme", "triage", ["summarizer"]),
  action: "Handoff",
  resource: targetAgent("acme", target),
  context: context("acme")
})

/** A request each forbid reads, and the attributes it reads. */
const cases: ReadonlyArray<{
  readonly forbid: string
  readonly request: PolicyRequestInput
  readonly suspended?: boolean
  readonly missing: ReadonlyArray<readonly [string, Mutation]>
}> = [
  {
    forbid: PlatformPolicyId.crossTenant,
    request: { ...invokeTool("mail.read"), resource: { type: "Tool", tenant: "globex", name: "mail.read" } },
    missing: [
      ["context.tenant", dropContext("tenant")],
      ["principal.tenant", dropAttr("Agent", "tenant")],
      ["resource.tenant", dropAttr("Tool", "tenant")]
    ]
  },
  {
    forbid: PlatformPolicyId.suspended,
    request: invokeTool("mail.read"),
    suspended: true,
    missing: [
      ["principal.owner", dropAttr("Agent", "owner")],
      ["Tenant.suspended", dropAttr("Tenant", "suspended")],
      ["the Tenant entity", dropEntity("Tenant")]
    ]
  },
  {
    forbid: PlatformPolicyId.intentAction,
    request: {
      ...invokeTool("mail.read"),
      context: context("acme", {
        intent: { name: "summarize-inbox", tools: ["mail.read"], agents: ["triage"], actions: ["StartTask"] }
      })
    },
    missing: [
      ["context.intent", dropContext("intent")],
      ["Intent.actions", dropAttr("Intent", "actions")],
      ["the Intent entity", dropEntity("Intent")]
    ]
  },
  {
    forbid: PlatformPolicyId.intentTool,
    request: invokeTool("mail.send"),
    missing: [
      ["Intent.tools", dropAttr("Intent", "tools")],
      ["resource.name", dropAttr("Tool", "name")],
      ["the Intent entity", dropEntity("Intent")]
    ]
  },
  {
    forbid: PlatformPolicyId.intentAgent,
    request: {
      ...handoffRequest(),
      context: context("acme", {
        intent: { name: "summarize-inbox", tools: ["mail.read"], agents: ["triage"] }
      })
    },
    missing: [
      ["Intent.agents", dropAttr("Intent", "agents")],
      ["principal.name / resource.name", dropAttr("Agent", "name")]
    ]
  },
  {
    forbid: PlatformPolicyId.handoffGraph,
    request: handoffRequest("billing"),
    missing: [["principal.handoffs", dropAttr("Agent", "handoffs")]]
  },
  {
    forbid: PlatformPolicyId.depth,
    request: { ...invokeTool("mail.read"), context: context("acme", { depth: 9 }) },
    missing: [["context.depth", dropContext("depth")]]
  },
  {
    forbid: PlatformPolicyId.taintedHighRisk,
    request: taintedCall("high"),
    missing: [
      ["context.tainted", dropContext("tainted")],
      ["resource.risk", dropAttr("Tool", "risk")]
    ]
  }
]

describe("platform forbids fail closed on missing attributes", () => {
  it("covers every platform forbid", () => {
    expect(new Set(cases.map((c) => c.forbid))).toEqual(new Set(PlatformForbidIds))
  })

  for (const c of cases) {
    it.effect(`${c.forbid}: the complete request is denied by it`, () =>
      Effect.gen(function* () {
        const engine = yield* loadPlatform
        const decision = fromEvaluation(evaluate(engine, callOf(c.request, c.suspended)), "v")
        expect(decision.decision).toBe("deny")
        expect(decision.determiningPolicies).toContain(c.forbid)
      })
    )
    for (const [name, mutate] of c.missing) {
      it.effect(`${c.forbid}: a request missing ${name} is denied (E_POLICY_EVALUATION)`, () =>
        Effect.gen(function* () {
          const engine = yield* loadPlatform
          const evaluation = evaluate(engine, mutate(callOf(c.request, c.suspended)))
          const decision = fromEvaluation(evaluation, "v")
          expect(decision.decision).toBe("deny")
          expect(decision.code).toBe("E_POLICY_EVALUATION")
          expect(decision.errors.length).toBeGreaterThan(0)
        })
      )
    }
  }

  it.effect("a request missing a context field through the Authorizer is denied, never defaulted open", () =>
    Effect.gen(function* () {
      const { Authorizer } = yield* Effect.promise(() => import("../src/index.js"))
      const authorizer = yield* Authorizer.make()
      for (const field of ["tenant", "session", "intent", "depth", "actors", "now"]) {
        const { [field]: _, ...rest } = context("acme") as Record<string, unknown>
        const decision = yield* authorizer.authorize({
          ...invokeTool("mail.read"),
          context: rest as PolicyRequestInput["context"]
        })
        expect(decision.code, field).toBe("E_POLICY_EVALUATION")
      }
    })
  )
})

describe("MC-03 platform.tainted-high-risk", () => {
  it.effect(
    "MC-03 tainted arguments to a high-risk tool are denied E_POLICY_DENY; low risk or clean args are allowed",
    () =>
      Effect.gen(function* () {
        const engine = yield* loadPlatform
        const decide = (req: PolicyRequestInput) => fromEvaluation(evaluate(engine, callOf(req)), "v")
        const denied = decide(taintedCall("high"))
        expect(denied).toMatchObject({
          decision: "deny",
          code: "E_POLICY_DENY",
          determiningPolicies: [PlatformPolicyId.taintedHighRisk]
        })
        expect(decide(taintedCall("low")).decision).toBe("allow")
        expect(decide(taintedCall("high", false)).decision).toBe("allow")
      })
  )

  it.effect("MC-03 a tool without a declared risk is low risk; an unknown risk value is refused", () =>
    Effect.gen(function* () {
      const { Authorizer } = yield* Effect.promise(() => import("../src/index.js"))
      const authorizer = yield* Authorizer.make()
      const undeclared = yield* authorizer.authorize({
        ...invokeTool("mail.read"),
        context: context("acme", { tainted: true })
      })
      expect(undeclared.decision).toBe("allow")
      const bogus = {
        ...taintedCall("high"),
        resource: { type: "Tool", tenant: "acme", name: "mail.read", risk: "HIGH" }
      }
      const refused = yield* authorizer.authorize(bogus as unknown as PolicyRequestInput)
      expect(refused.decision).toBe("deny")
    })
  )
})
