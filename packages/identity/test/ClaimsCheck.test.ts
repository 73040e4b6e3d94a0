import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { checkTaskClaims } from "../src/internal/claimsCheck.js"
import { decodeTaskClaims } from "../src/index.js"
import { acmeUri, sampleClaims } from "./support.js"

const uri = acmeUri
const valid: Record<string, unknown> = { ...sampleClaims }
const names = [...Object.keys(valid), "role", "__proto__", "act.sub", "act.act", "act.x"]

/** Values near every rule's edges, plus arbitrary JSON. */
const value = fc.oneof(
  fc.constantFrom(
    "",
    "acme",
    "Acme",
    "a".repeat(63),
    "a".repeat(64),
    "x y",
    "*",
    "a*b",
    uri("other"),
    "spiffe://cordon.test/tenant/other/agent/x",
    "spiffe://cordon.test/tenant/acme/agent/",
    "A".repeat(22),
    "A".repeat(21),
    "B".repeat(43),
    "B=".repeat(22),
    -1,
    -0,
    0,
    1.5,
    2 ** 53,
    Number.NaN,
    null,
    true,
    [],
    ["a:read"],
    ["b:read", "a:read"],
    ["a:read", "a:read"],
    ["a:*"],
    {},
    { sub: uri("x") },
    { sub: uri("x"), act: { sub: "nope" } },
    { sub: uri("x"), extra: 1 }
  ),
  fc.jsonValue()
)

/** A valid claim set with some claims (or actor members) removed, replaced or added. */
const mutated = fc
  .array(fc.tuple(fc.constantFrom(...names), fc.option(value, { nil: undefined })), { maxLength: 3 })
  .map((edits) => {
    const out: Record<string, unknown> = JSON.parse(JSON.stringify(valid))
    for (const [name, v] of edits) {
      const [head, member] = name.split(".")
      if (member !== undefined && out.act === undefined) out.act = {}
      const target = member === undefined ? out : out.act
      const key = member ?? head!
      if (typeof target !== "object" || target === null) continue
      if (v === undefined) delete (target as Record<string, unknown>)[key]
      else
        Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true })
    }
    return out
  })

describe("checkTaskClaims", () => {
  it("accepts and rejects exactly what the strict TaskClaims schema decoder does, with the same data", () => {
    fc.assert(
      fc.property(mutated, (claims) => {
        const decoded = decodeTaskClaims(claims)
        const checked = checkTaskClaims(claims)
        expect(checked !== undefined).toBe(Either.isRight(decoded))
        if (Either.isRight(decoded)) expect(checked).toStrictEqual(decoded.right)
      }),
      { numRuns: 5000 }
    )
  })

  it("refuses non-objects and arrays", () => {
    for (const u of [null, undefined, 1, "x", [], [valid]]) expect(checkTaskClaims(u)).toBeUndefined()
  })
})
