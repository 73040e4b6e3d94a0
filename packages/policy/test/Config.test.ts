import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Authorizer } from "../src/index.js"
import { invokeTool } from "./fixtures.js"

const configError = (extraPolicies: string) =>
  Effect.flip(Authorizer.make({ extraPolicies })).pipe(Effect.map((e) => [e._tag, e.code, e.reason] as const))

describe("Authorizer boot", () => {
  const rejected: ReadonlyArray<readonly [string, string, string]> = [
    ["text that does not parse", "permit (principal, action", "do not parse"],
    ["a policy without @id", "permit (principal, action, resource);", "without an @id"],
    ["an empty @id", `@id("") permit (principal, action, resource);`, "without an @id"],
    [
      "a reserved platform. @id",
      `@id("platform.tenant-override") permit (principal, action, resource);`,
      "reserved"
    ],
    [
      "a repeated @id",
      `@id("acme.a") permit (principal, action, resource);\n@id("acme.a") forbid (principal, action, resource);`,
      "duplicate"
    ],
    [
      "an attribute the schema does not declare",
      `@id("acme.role") permit (principal, action, resource) when { principal.role == "admin" };`,
      "do not validate"
    ],
    [
      "an entity type the schema does not declare",
      `@id("acme.robot") permit (principal is Cordon::Robot, action, resource);`,
      "do not validate"
    ],
    ["a template", `@id("acme.t") permit (principal == ?principal, action, resource);`, "templates"]
  ]

  for (const [name, text, reason] of rejected) {
    it.effect(`fails with PolicyConfigError E_CONFIG on ${name}`, () =>
      Effect.gen(function* () {
        const [tag, code, message] = yield* configError(text)
        expect(tag).toBe("PolicyConfigError")
        expect(code).toBe("E_CONFIG")
        expect(message).toContain(reason)
      })
    )
  }

  it.effect("fails the layer with PolicyConfigError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(Authorizer.layerWith({ extraPolicies: "forbid (" })))
      expect(error._tag).toBe("PolicyConfigError")
      expect(error.code).toBe("E_CONFIG")
    }).pipe(Effect.scoped)
  )

  it.effect("a tenant permit cannot override a platform forbid", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make({
        extraPolicies: `@id("acme.allow-all") permit (principal, action, resource);`
      })
      const outsideIntent = yield* authorizer.authorize(invokeTool("mail.send"))
      expect(outsideIntent.code).toBe("E_TOOL_NOT_ALLOWED")
      const foreign = yield* authorizer.authorize({
        ...invokeTool("mail.read"),
        resource: { type: "Tool", tenant: "globex", name: "mail.read" }
      })
      expect(foreign.code).toBe("E_TENANT_MISMATCH")
    })
  )

  it.effect("a tenant forbid denies with E_POLICY_DENY and its @id", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make({
        extraPolicies: `@id("acme.no-summaries")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when { resource.name == "mail.summarize" };`
      })
      expect((yield* authorizer.authorize(invokeTool("mail.read"))).decision).toBe("allow")
      const decision = yield* authorizer.authorize(invokeTool("mail.summarize"))
      expect(decision).toMatchObject({
        decision: "deny",
        code: "E_POLICY_DENY",
        determiningPolicies: ["acme.no-summaries"]
      })
    })
  )
})
