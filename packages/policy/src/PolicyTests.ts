/**
 * Policy test files (`cordon policy test <file>`): requests and the decisions a tenant expects for
 * them under its policy set, run against the real authoriser (platform + the tenant's set, decision
 * cache off).
 *
 * File format (JSON): `{ "tenant": "acme", "policies": ["main.cedar", ...], "cases": [ { "name",
 * "request": <PolicyRequest>, "expect": "allow" | "deny", "code"?: <DenyCode>, "policies"?: [<@id>],
 * "suspended"?: boolean } ] }`. `policies` paths are relative to the test file; a case's
 * `policies` lists the exact determining policy ids expected.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Authorizer } from "./Authorizer.js"
import type { PolicyConfigError } from "./Errors.js"
import { DenyCode } from "./PolicyRequest.js"

/** One expected decision. `request` is decoded by the authoriser (an invalid one denies). */
export const PolicyTestCase = Schema.Struct({
  name: Schema.NonEmptyString,
  request: Schema.Unknown,
  expect: Schema.Literal("allow", "deny"),
  code: Schema.optional(DenyCode),
  policies: Schema.optional(Schema.Array(Schema.String)),
  suspended: Schema.optional(Schema.Boolean)
})
export type PolicyTestCase = typeof PolicyTestCase.Type

/** A policy test file. */
export const PolicyTestFile = Schema.Struct({
  tenant: Schema.NonEmptyString,
  policies: Schema.Array(Schema.NonEmptyString),
  cases: Schema.NonEmptyArray(PolicyTestCase)
})
export type PolicyTestFile = typeof PolicyTestFile.Type

/** The outcome of one case: `actual` is `allow` or `deny <code> [ids]`. */
export interface PolicyTestResult {
  readonly name: string
  readonly pass: boolean
  readonly expected: string
  readonly actual: string
}

const describeExpected = (c: PolicyTestCase) =>
  [c.expect, c.code ?? "", c.policies === undefined ? "" : `[${[...c.policies].sort().join(",")}]`]
    .filter((s) => s !== "")
    .join(" ")

/**
 * Runs `cases` against platform + `text` as `tenant`'s active set. Fails with `PolicyConfigError`
 * when the set does not load; a case whose decision differs from the expectation is a failed result.
 */
export const runPolicyTests = (spec: {
  readonly tenant: string
  readonly text: string
  readonly cases: ReadonlyArray<PolicyTestCase>
}): Effect.Effect<ReadonlyArray<PolicyTestResult>, PolicyConfigError> =>
  Effect.gen(function* () {
    const authorizer = yield* Authorizer.make({
      tenantPolicies: [{ tenant: spec.tenant, version: 1, text: spec.text }],
      decisionCache: false
    })
    const results: Array<PolicyTestResult> = []
    for (const c of spec.cases) {
      yield* authorizer.setTenantStatus(spec.tenant, c.suspended === true ? "suspended" : "active")
      const d = yield* authorizer.authorize(c.request as never)
      const ids = [...d.determiningPolicies].sort()
      const pass =
        d.decision === c.expect &&
        (c.code === undefined || d.code === c.code) &&
        (c.policies === undefined || [...c.policies].sort().join(",") === ids.join(","))
      const actual = d.decision === "allow" ? `allow [${ids.join(",")}]` : `deny ${d.code} [${ids.join(",")}]`
      results.push({ name: c.name, pass, expected: describeExpected(c), actual })
    }
    return results
  })

/** A plain-text pass/fail table of `results`, with a summary line. */
export const formatResults = (results: ReadonlyArray<PolicyTestResult>): string => {
  const rows = results.map((r) => [r.pass ? "PASS" : "FAIL", r.name, r.expected, r.actual] as const)
  const header = ["", "case", "expected", "actual"] as const
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  const failed = results.filter((r) => !r.pass).length
  return [line(header), ...rows.map(line), `${results.length - failed} passed, ${failed} failed`].join("\n")
}
