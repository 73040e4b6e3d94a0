import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Authorizer, type PolicyRequestInput as PolicyRequest } from "../src/index.js"
import { canonicalJson, makeDecisionCache } from "../src/internal/DecisionCache.js"
import { agent, context, invokeTool, targetAgent } from "./fixtures.js"

const handoff = (overrides: Parameters<typeof context>[1] = {}): PolicyRequest => ({
  principal: agent("acme", "triage", ["summarizer"]),
  action: "Handoff",
  resource: targetAgent("acme", "summarizer"),
  context: context("acme", {
    intent: { name: "summarize-inbox", tools: ["mail.read"], agents: ["triage", "summarizer"] },
    ...overrides
  })
})

describe("decision cache", () => {
  it.effect("serves the same request within one second as the cached decision", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const first = yield* authorizer.authorize(handoff())
      yield* TestClock.adjust("999 millis")
      const second = yield* authorizer.authorize(handoff())
      expect(first.decision).toBe("allow")
      expect(second).toBe(first)
      expect(Object.isFrozen(second)).toBe(true)
      expect(Object.isFrozen(second.determiningPolicies)).toBe(true)
    })
  )

  it.effect("re-evaluates the same request once one second has passed", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const first = yield* authorizer.authorize(handoff())
      yield* TestClock.adjust("1 second")
      const second = yield* authorizer.authorize(handoff())
      expect(second).not.toBe(first)
      expect(second).toEqual(first)
      const third = yield* authorizer.authorize(handoff())
      expect(third).toBe(second)
    })
  )

  it.effect("DS-03 never serves a decision for a different depth, session or time", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const allowed = yield* authorizer.authorize(handoff({ depth: 8 }))
      expect(allowed.decision).toBe("allow")
      const deeper = yield* authorizer.authorize(handoff({ depth: 9 }))
      expect(deeper).toMatchObject({ decision: "deny", determiningPolicies: ["platform.depth"] })
      const otherSession = yield* authorizer.authorize(handoff({ depth: 8, session: "sess-2" }))
      expect(otherSession).not.toBe(allowed)
      const later = yield* authorizer.authorize(handoff({ depth: 8, now: 1_767_225_601 }))
      expect(later).not.toBe(allowed)
      expect(yield* authorizer.authorize(handoff({ depth: 8 }))).toBe(allowed)
    })
  )

  it.effect("DS-04 never serves a decision for different actors, intent or handoff graph", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const allowed = yield* authorizer.authorize(handoff())
      const otherActors = yield* authorizer.authorize(handoff({ actors: ["spiffe://x/other"] }))
      expect(otherActors).not.toBe(allowed)
      const outsideIntent = yield* authorizer.authorize(
        handoff({ intent: { name: "summarize-inbox", tools: ["mail.read"], agents: ["triage"] } })
      )
      expect(outsideIntent).toMatchObject({
        decision: "deny",
        determiningPolicies: ["platform.intent-agent"]
      })
      const noGraph = yield* authorizer.authorize({ ...handoff(), principal: agent("acme", "triage", []) })
      expect(noGraph).toMatchObject({ decision: "deny", code: "E_HANDOFF_DENIED" })
    })
  )

  it.effect("IP-06 never serves a decision cached under another policy version", () =>
    Effect.gen(function* () {
      const before = yield* Authorizer.make()
      const after = yield* Authorizer.make({
        extraPolicies: `@id("acme.revoke-mail-read")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when { resource.name == "mail.read" };`
      })
      const allowed = yield* before.authorize(invokeTool("mail.read"))
      const denied = yield* after.authorize(invokeTool("mail.read"))
      expect(allowed).toMatchObject({ decision: "allow", policyVersion: before.policyVersion })
      expect(denied).toMatchObject({ decision: "deny", policyVersion: after.policyVersion })
      expect(yield* before.authorize(invokeTool("mail.read"))).toBe(allowed)
      expect(yield* after.authorize(invokeTool("mail.read"))).toBe(denied)
    })
  )

  it.effect("does not cache a request that does not decode, nor an evaluation error", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const bad = { ...invokeTool("mail.read"), context: { ...context("acme"), depth: -1 } }
      const first = yield* authorizer.authorize(bad as PolicyRequest)
      const second = yield* authorizer.authorize(bad as PolicyRequest)
      expect(first.code).toBe("E_POLICY_EVALUATION")
      expect(second).not.toBe(first)
      const wrongType = { ...invokeTool("mail.read"), resource: { type: "Mailbox", tenant: "acme", id: "m" } }
      const third = yield* authorizer.authorize(wrongType as PolicyRequest)
      const fourth = yield* authorizer.authorize(wrongType as PolicyRequest)
      expect(third.code).toBe("E_POLICY_EVALUATION")
      expect(fourth).not.toBe(third)
    })
  )

  it.effect(
    "keys on the input as given: extra fields are a separate entry that decodes to the same decision",
    () =>
      Effect.gen(function* () {
        const authorizer = yield* Authorizer.make()
        const plain = yield* authorizer.authorize(handoff())
        const extra = { ...handoff(), note: "ignored", context: { ...handoff().context, extra: 1 } }
        const withExtra = yield* authorizer.authorize(extra as PolicyRequest)
        expect(withExtra).not.toBe(plain)
        expect(withExtra).toEqual(plain)
        expect(yield* authorizer.authorize(extra as PolicyRequest)).toBe(withExtra)
        expect(yield* authorizer.authorize(handoff())).toBe(plain)
      })
  )

  it.effect("input that is not JSON data (a BigInt, a cycle) is denied, never cached, never a defect", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const cyclic: Record<string, unknown> = { folder: "inbox" }
      cyclic.self = cyclic
      const withBigInt = {
        ...invokeTool("mail.read"),
        context: { ...invokeTool("mail.read").context, args: { n: 1n } }
      }
      const first = yield* authorizer.authorize(withBigInt as unknown as PolicyRequest)
      const second = yield* authorizer.authorize(withBigInt as unknown as PolicyRequest)
      expect(first).toMatchObject({ decision: "deny", code: "E_POLICY_EVALUATION" })
      expect(second).not.toBe(first)
      const loop = {
        ...invokeTool("mail.read"),
        context: { ...invokeTool("mail.read").context, args: cyclic }
      }
      const third = yield* authorizer.authorize(loop as unknown as PolicyRequest)
      expect(third).toMatchObject({ decision: "deny", code: "E_POLICY_EVALUATION" })
    })
  )

  it.effect("resolves `in Tenant` through the agent's parent edge", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make({
        extraPolicies: `@id("acme.no-globex") forbid (principal in Cordon::Tenant::"globex", action, resource);`
      })
      expect((yield* authorizer.authorize(invokeTool("mail.read"))).decision).toBe("allow")
      expect(yield* authorizer.authorize(invokeTool("mail.read", "globex"))).toMatchObject({
        decision: "deny",
        determiningPolicies: ["acme.no-globex"]
      })
    })
  )
})

describe("makeDecisionCache", () => {
  const decision = {
    decision: "allow" as const,
    code: null,
    determiningPolicies: ["p"],
    policyVersion: "v",
    errors: []
  }

  it("expires entries after the ttl and never serves one stored in the future", () => {
    const cache = makeDecisionCache({ ttlNanos: 10n })
    cache.set("k", decision, 100n)
    expect(cache.get("k", 109n)).toBe(decision)
    expect(cache.get("k", 110n)).toBeUndefined()
    cache.set("k", decision, 100n)
    expect(cache.get("k", 99n)).toBeUndefined()
  })

  it("is bounded and evicts the oldest entry first", () => {
    const cache = makeDecisionCache({ maxEntries: 2 })
    cache.set("a", decision, 0n)
    cache.set("b", decision, 0n)
    cache.set("c", decision, 0n)
    expect(cache.size()).toBe(2)
    expect(cache.get("a", 0n)).toBeUndefined()
    expect(cache.get("b", 0n)).toBe(decision)
    expect(cache.get("c", 0n)).toBe(decision)
  })

  it("serialises canonically: key order does not matter, values and array order do", () => {
    expect(canonicalJson({ b: 1, a: [1, 2], c: undefined })).toBe('{"a":[1,2],"b":1}')
    expect(canonicalJson({ a: [1, 2], b: 1 })).toBe(canonicalJson({ b: 1, a: [1, 2] }))
    expect(canonicalJson({ a: [2, 1] })).not.toBe(canonicalJson({ a: [1, 2] }))
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }))
  })
})
