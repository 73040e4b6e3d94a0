import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { testFile, validateDirectory } from "../src/PolicyCli.js"

const demo = path.resolve(import.meta.dirname, "../../examples/policies")

const tempDir = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-policy-"))
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

describe("cordon policy (CI runs the demo's policy tests here)", () => {
  it.effect("validate: the demo's policies are valid", () =>
    Effect.gen(function* () {
      const outcome = yield* validateDirectory(demo)
      expect(outcome.diagnostics).toEqual([])
      expect(outcome.exitCode).toBe(0)
    })
  )

  it.effect("test: every case of the demo's policy test file passes", () =>
    Effect.gen(function* () {
      const outcome = yield* testFile(path.join(demo, "mail.test.json"))
      expect(outcome.results?.filter((r) => !r.pass)).toEqual([])
      expect(outcome.results?.length).toBeGreaterThanOrEqual(10)
      expect(outcome.exitCode).toBe(0)
    })
  )

  it.effect("validate: reports file:line for an invalid policy and exits 1; an empty dir exits 2", () =>
    Effect.gen(function* () {
      const dir = tempDir({
        "ok.cedar": `@id("t.ok") forbid (principal, action, resource) when { false };`,
        "bad.cedar": `// header\n\n@id("t.bad")\nforbid (principal, action, resource)\nwhen { context.role == "admin" };`
      })
      const outcome = yield* validateDirectory(dir)
      expect(outcome.exitCode).toBe(1)
      expect(outcome.output).toContain(`${path.join(dir, "bad.cedar")}:5:8: [t.bad]`)
      expect((yield* validateDirectory(tempDir({}))).exitCode).toBe(2)
    })
  )

  it.effect("test: a wrong expectation fails the run with exit 1 and a FAIL row", () =>
    Effect.gen(function* () {
      const spec = JSON.parse(fs.readFileSync(path.join(demo, "mail.test.json"), "utf8")) as {
        cases: Array<{ expect: string }>
        policies: Array<string>
      }
      spec.policies = [path.join(demo, "mail.cedar")]
      spec.cases[0]!.expect = "deny"
      const dir = tempDir({ "t.json": JSON.stringify(spec) })
      const outcome = yield* testFile(path.join(dir, "t.json"))
      expect(outcome.exitCode).toBe(1)
      expect(outcome.output).toMatch(/^FAIL {2}triage reads the inbox/m)
      expect((yield* testFile(path.join(dir, "missing.json"))).exitCode).toBe(2)
    })
  )
})
