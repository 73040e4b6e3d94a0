import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Authorizer, decisionToError, enforce, PolicyDenied } from "../src/index.js"
import { invokeTool } from "./fixtures.js"

describe("PolicyDenied", () => {
  it.effect("DS-05 carries the deny code, policy version and determining policies, without tenant data", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const decision = yield* authorizer.authorize({
        ...invokeTool("mail.read"),
        resource: { type: "Tool", tenant: "globex", name: "mail.read" }
      })
      const error = decisionToError(decision)
      expect(error).toBeInstanceOf(PolicyDenied)
      expect(error).toMatchObject({
        _tag: "PolicyDenied",
        code: "E_TENANT_MISMATCH",
        policyVersion: authorizer.policyVersion,
        determiningPolicies: ["platform.cross-tenant"]
      })
      expect(error.reason).toBe("forbidden by platform.cross-tenant")
      expect(error.message).not.toMatch(/acme|globex|spiffe/)
    })
  )

  it.effect("enforce succeeds on allow and fails with PolicyDenied on deny", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const allowed = yield* Effect.exit(enforce(yield* authorizer.authorize(invokeTool("mail.read"))))
      expect(Exit.isSuccess(allowed)).toBe(true)
      const denied = yield* Effect.flip(enforce(yield* authorizer.authorize(invokeTool("mail.send"))))
      expect(denied.code).toBe("E_TOOL_NOT_ALLOWED")
    })
  )

  it("describes a deny where no permit matched", () => {
    const error = decisionToError({
      decision: "deny",
      code: "E_POLICY_DENY",
      determiningPolicies: [],
      policyVersion: "v1",
      errors: []
    })
    expect(error.code).toBe("E_POLICY_DENY")
    expect(error.reason).toBe("no policy permits the request")
  })

  it("fails closed when given an allow decision", () => {
    const error = decisionToError({
      decision: "allow",
      code: null,
      determiningPolicies: ["platform.baseline"],
      policyVersion: "v1",
      errors: []
    })
    expect(error.code).toBe("E_POLICY_EVALUATION")
  })
})
