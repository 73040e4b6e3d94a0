import { describe, expect, it } from "@effect/vitest"
import * as Intent from "../src/Intent.js"

const spec = { name: "chat.reply", description: "Reply", agents: ["a"], tools: ["t"], scopes: ["chat:write"] }

const refusal = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

describe("Intent", () => {
  it("refuses a wildcard scope at declaration with a typed E_WILDCARD_SCOPE", () => {
    for (const scope of ["*", "mail:*", "*:read"]) {
      const e = refusal(() => Intent.make({ ...spec, scopes: ["chat:write", scope] }))
      expect(e).toBeInstanceOf(Intent.IntentDeclarationError)
      expect((e as Intent.IntentDeclarationError).code).toBe("E_WILDCARD_SCOPE")
    }
  })

  it("names its actions (default: every agent action) and refuses unknown ones", () => {
    expect(Intent.make(spec).actions).toEqual(Intent.IntentActions)
    expect(Intent.make({ ...spec, actions: ["InvokeTool", "InvokeTool"] }).actions).toEqual(["InvokeTool"])
    const e = refusal(() => Intent.make({ ...spec, actions: ["Approve" as Intent.IntentAction] }))
    expect((e as Intent.IntentDeclarationError).code).toBe("E_INTENT_INVALID")
  })
})
