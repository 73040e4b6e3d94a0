import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { CedarSchema, PlatformPolicies, PolicyRequest } from "../src/index.js"
import { type CedarCall, evaluate, load } from "../src/internal/CedarEngine.js"
import { toCedarCall } from "../src/internal/CedarRequest.js"
import { fromEvaluation } from "../src/internal/Decision.js"
import { invokeTool } from "./fixtures.js"

const loadPlatform = load({
  schemaText: CedarSchema,
  schemaKey: "engine-test",
  sources: [{ text: PlatformPolicies, origin: "platform" }],
  policyKey: "engine-test",
  reservedPrefix: "platform."
})

const valid = toCedarCall(Schema.decodeSync(PolicyRequest)(invokeTool("mail.read")), false) as CedarCall

const withEntity = (
  type: string,
  change: (attrs: Record<string, unknown>) => Record<string, unknown>
): CedarCall => ({
  ...valid,
  entities: valid.entities.map((e) =>
    "type" in e.uid && e.uid.type === `Cordon::${type}`
      ? { ...e, attrs: change(e.attrs) as typeof e.attrs }
      : e
  )
})

// These calls bypass the PolicyRequest decoder: they show that Cedar's own schema validation and
// the evaluation-error check keep the decision closed when a request is incomplete or ill-typed.
describe("Cedar engine (request validation on)", () => {
  it.effect("allows the well-formed request", () =>
    Effect.gen(function* () {
      const engine = yield* loadPlatform
      expect(fromEvaluation(evaluate(engine, valid), "v").decision).toBe("allow")
    })
  )

  const invalid: ReadonlyArray<readonly [string, CedarCall]> = [
    ["an agent without handoffs", withEntity("Agent", ({ handoffs: _, ...rest }) => rest)],
    ["an ill-typed agent tenant", withEntity("Agent", (a) => ({ ...a, tenant: 7 }))],
    ["an attribute the schema does not declare", withEntity("Agent", (a) => ({ ...a, admin: true }))],
    ["a tool without a name", withEntity("Tool", ({ name: _, ...rest }) => rest)],
    ["a context without depth", { ...valid, context: { ...valid.context, depth: null } }],
    ["a context with an undeclared field", { ...valid, context: { ...valid.context, role: "admin" } }],
    ["an action the schema does not declare", { ...valid, action: { type: "Cordon::Action", id: "Admin" } }]
  ]

  for (const [name, call] of invalid) {
    it.effect(`denies ${name} as E_POLICY_EVALUATION`, () =>
      Effect.gen(function* () {
        const engine = yield* loadPlatform
        const evaluation = evaluate(engine, call)
        expect(evaluation._tag).toBe("Failed")
        const decision = fromEvaluation(evaluation, "v")
        expect(decision.decision).toBe("deny")
        expect(decision.code).toBe("E_POLICY_EVALUATION")
      })
    )
  }

  it.effect("IP-05 denies when the intent entity is absent, although Cedar alone would allow", () =>
    Effect.gen(function* () {
      const engine = yield* loadPlatform
      const call = {
        ...valid,
        entities: valid.entities.filter((e) => !("type" in e.uid && e.uid.type === "Cordon::Intent"))
      }
      const evaluation = evaluate(engine, call)
      // platform.intent-tool cannot read context.intent.tools, errors and is skipped: Cedar allows.
      expect(evaluation).toMatchObject({ _tag: "Evaluated", decision: "allow" })
      const decision = fromEvaluation(evaluation, "v")
      expect(decision.decision).toBe("deny")
      expect(decision.code).toBe("E_POLICY_EVALUATION")
      expect(decision.errors.join("\n")).toContain("platform.intent-tool")
    })
  )
})
