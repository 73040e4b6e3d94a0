import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Tool from "../src/Tool.js"

const spec = {
  name: "docs.get",
  description: "get",
  input: Schema.Struct({ id: Schema.String }),
  output: Schema.Struct({ tenant: Schema.String, id: Schema.String }),
  scopes: ["docs:read", "docs:read"],
  handler: () => Effect.succeed({ tenant: "acme", id: "d1" })
}

describe("Tool.make", () => {
  it("derives the per-call audience and defaults the gate declarations to the strictest", () => {
    const tool = Tool.make(spec)
    expect(tool.audience).toBe("tool:docs.get")
    expect(tool.scopes).toEqual(["docs:read"])
    expect(tool.identityFields).toEqual([])
    expect(tool.constraints).toEqual({})
    expect(tool.resultRecords).toBeUndefined()
    expect(tool.records({ id: "d1" })).toEqual([])
  })

  it("TM-07 refuses wildcard scopes and invalid size caps at definition time", () => {
    expect(() => Tool.make({ ...spec, scopes: ["*"] })).toThrow(/wildcard/)
    expect(() => Tool.make({ ...spec, scopes: ["docs:*"] })).toThrow(/wildcard/)
    for (const maxBytes of [0, -1, 1.5]) {
      expect(() => Tool.make({ ...spec, constraints: { maxBytes } })).toThrow(/maxBytes/)
    }
  })

  it("keeps the declared result records and identity fields", () => {
    const tool = Tool.make({
      ...spec,
      identityFields: ["user"],
      resultRecords: (out) => [{ type: "Doc", tenant: out.tenant, id: out.id }]
    })
    expect(tool.identityFields).toEqual(["user"])
    expect(tool.resultRecords?.({ tenant: "b", id: "x" })).toEqual([{ type: "Doc", tenant: "b", id: "x" }])
  })

  it("MC-03 risk defaults to low, keeps a declared high and refuses any other value", () => {
    expect(Tool.make(spec).risk).toBe("low")
    expect(Tool.make({ ...spec, risk: "high" }).risk).toBe("high")
    expect(() => Tool.make({ ...spec, risk: "HIGH" as "high" })).toThrow(/risk/)
  })
})
