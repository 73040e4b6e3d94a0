import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Authorizer, validatePolicyFiles } from "../src/index.js"
import { context, invokeTool } from "./fixtures.js"

const noMailRead = `@id("acme.no-mail-read")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when { resource.name == "mail.read" };`

const pathJail = `@id("acme.path-jail")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
unless { context.args.hasTag("path") && context.args.getTag("path") like "/srv/acme/*" };

@id("acme.size-cap")
forbid (principal, action, resource) when { context.args.size > 64 };`

const approval = `@id("acme.big-transfer")
@approval("required")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
when {
  resource.name == "mail.read" && !context.approved &&
  context.args.numbers.hasTag("amount") && context.args.numbers.getTag("amount") > 1000
};`

const withArgs = (args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...invokeTool("mail.read"),
  context: { ...context("acme"), args, ...extra }
})

describe("tenant policy sets", () => {
  it.effect("IP-06 decides with the tenant's active set and reports platform@…+tenant@n", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const before = yield* authorizer.authorize(invokeTool("mail.read"))
      expect(before).toMatchObject({ decision: "allow", policyVersion: authorizer.policyVersion })
      const version = yield* authorizer.activate({ tenant: "acme", version: 1, text: noMailRead })
      expect(version).toBe(`${authorizer.policyVersion}+tenant@1`)
      const after = yield* authorizer.authorize(invokeTool("mail.read"))
      expect(after).toMatchObject({
        decision: "deny",
        code: "E_POLICY_DENY",
        determiningPolicies: ["acme.no-mail-read"],
        policyVersion: version
      })
      // Another tenant is not affected by acme's set.
      const globex = yield* authorizer.authorize(invokeTool("mail.read", "globex"))
      expect(globex).toMatchObject({ decision: "allow", policyVersion: authorizer.policyVersion })
    })
  )

  it.effect("rolls back by activating an older version; a rejected set leaves the active one", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      yield* authorizer.activate({
        tenant: "acme",
        version: 1,
        text: `@id("acme.noop") forbid (principal, action, resource) when { false };`
      })
      yield* authorizer.activate({ tenant: "acme", version: 2, text: noMailRead })
      expect((yield* authorizer.authorize(invokeTool("mail.read"))).decision).toBe("deny")
      const bad = yield* Effect.either(
        authorizer.activate({
          tenant: "acme",
          version: 3,
          text: `@id("acme.x") forbid (principal, action, resource) when { context.nope };`
        })
      )
      expect(bad._tag).toBe("Left")
      expect(authorizer.versionOf("acme")).toBe(`${authorizer.policyVersion}+tenant@2`)
      yield* authorizer.activate({
        tenant: "acme",
        version: 1,
        text: `@id("acme.noop") forbid (principal, action, resource) when { false };`
      })
      const decision = yield* authorizer.authorize(invokeTool("mail.read"))
      expect(decision).toMatchObject({
        decision: "allow",
        policyVersion: `${authorizer.policyVersion}+tenant@1`
      })
    })
  )

  it.effect("denies everything for a suspended tenant (E_TENANT_SUSPENDED) and recovers when active", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      yield* authorizer.setTenantStatus("acme", "suspended")
      const denied = yield* authorizer.authorize(invokeTool("mail.read"))
      expect(denied).toMatchObject({ decision: "deny", code: "E_TENANT_SUSPENDED" })
      expect(denied.determiningPolicies).toContain("platform.tenant-suspended")
      yield* authorizer.setTenantStatus("acme", "active")
      expect((yield* authorizer.authorize(invokeTool("mail.read"))).decision).toBe("allow")
    })
  )

  it.effect("IP-05 denies an action the intent does not list (E_INTENT_MISMATCH)", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const decision = yield* authorizer.authorize({
        ...invokeTool("mail.read"),
        context: context("acme", {
          intent: {
            name: "summarize-inbox",
            tools: ["mail.read"],
            agents: ["triage"],
            actions: ["StartTask"]
          }
        })
      })
      expect(decision).toMatchObject({ decision: "deny", code: "E_INTENT_MISMATCH" })
    })
  )

  it.effect("tenant policies constrain tool arguments: path jail and size cap", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make({
        tenantPolicies: [{ tenant: "acme", version: 1, text: pathJail }]
      })
      expect((yield* authorizer.authorize(withArgs({ path: "/srv/acme/a.txt" }))).decision).toBe("allow")
      const outside = yield* authorizer.authorize(withArgs({ path: "/etc/passwd" }))
      expect(outside).toMatchObject({ decision: "deny", determiningPolicies: ["acme.path-jail"] })
      const missing = yield* authorizer.authorize(withArgs({}))
      expect(missing).toMatchObject({ decision: "deny", determiningPolicies: ["acme.path-jail"] })
      const big = yield* authorizer.authorize(withArgs({ path: "/srv/acme/a", body: "x".repeat(100) }))
      expect(big).toMatchObject({ decision: "deny", determiningPolicies: ["acme.size-cap"] })
    })
  )

  it.effect(
    'IP-07 an @approval("required") forbid alone yields E_APPROVAL_REQUIRED; approved=true allows',
    () =>
      Effect.gen(function* () {
        const authorizer = yield* Authorizer.make({
          tenantPolicies: [{ tenant: "acme", version: 1, text: approval }]
        })
        expect((yield* authorizer.authorize(withArgs({ amount: 10 }))).decision).toBe("allow")
        const needs = yield* authorizer.authorize(withArgs({ amount: 9000 }))
        expect(needs).toMatchObject({ decision: "deny", code: "E_APPROVAL_REQUIRED" })
        const approved = yield* authorizer.authorize(withArgs({ amount: 9000 }, { approved: true }))
        expect(approved.decision).toBe("allow")
        // A platform forbid still wins over an approval.
        const foreign = yield* authorizer.authorize({
          ...withArgs({ amount: 9000 }, { approved: true }),
          resource: { type: "Tool", tenant: "globex", name: "mail.read" }
        })
        expect(foreign.code).toBe("E_TENANT_MISMATCH")
      })
  )

  it.effect("tainted is false by default and readable by tenant policies", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make({
        tenantPolicies: [
          {
            tenant: "acme",
            version: 1,
            text: `@id("acme.no-tainted") forbid (principal, action, resource) when { context.tainted };`
          }
        ]
      })
      expect((yield* authorizer.authorize(withArgs({}))).decision).toBe("allow")
      const tainted = yield* authorizer.authorize(withArgs({}, { tainted: true }))
      expect(tainted).toMatchObject({ decision: "deny", determiningPolicies: ["acme.no-tainted"] })
    })
  )

  it.effect("users: Approve needs the approver role of the same tenant", () =>
    Effect.gen(function* () {
      const authorizer = yield* Authorizer.make()
      const approve = (tenant: string, roles: ReadonlyArray<string>) =>
        authorizer.authorize({
          principal: { type: "User", tenant, id: "alice", roles },
          action: "Approve",
          resource: { type: "Approval", tenant: "acme", id: "apr-1", session: "sess-1", tool: "mail.read" },
          context: context(tenant)
        })
      expect((yield* approve("acme", ["approver"])).decision).toBe("allow")
      expect((yield* approve("acme", [])).code).toBe("E_POLICY_DENY")
      expect((yield* approve("globex", ["approver"])).code).toBe("E_TENANT_MISMATCH")
    })
  )
})

describe("validatePolicyFiles", () => {
  it("accepts valid files and reports file:line for parse, id and schema errors", () => {
    expect(validatePolicyFiles([{ name: "ok.cedar", text: noMailRead }])).toEqual([])
    const diagnostics = validatePolicyFiles([
      {
        name: "a.cedar",
        text: `${noMailRead}\n\n@id("acme.bad")\nforbid (principal, action, resource)\nwhen { context.nope };`
      },
      { name: "b.cedar", text: `// dup\n${noMailRead}` },
      { name: "c.cedar", text: `@id("platform.evil") permit (principal, action, resource);` },
      { name: "d.cedar", text: "permit (principal, action, resource" }
    ])
    const byFile = (f: string) => diagnostics.filter((d) => d.file === f)
    expect(byFile("a.cedar")).toMatchObject([{ line: 7, column: 8, policyId: "acme.bad" }])
    expect(byFile("b.cedar")).toMatchObject([{ line: 2, policyId: "acme.no-mail-read" }])
    expect(byFile("c.cedar")[0]?.message).toContain("reserved")
    expect(byFile("d.cedar").length).toBe(1)
  })
})
