/**
 * `cordon policy validate <dir>` and `cordon policy test <file>`.
 *
 * - `validate`: every `*.cedar` file of `dir` (not recursive), together with the platform set, against
 *   the Cordon Cedar schema in strict mode; prints `file:line:column: [policy] message` per problem.
 *   Exit 0 when valid, 1 on problems, 2 when the directory cannot be read or holds no `.cedar` file.
 * - `test`: a policy test file (`PolicyTestFile`, JSON) → a pass/fail table. Exit 0 when every case
 *   passes, 1 when one fails or the policies do not validate, 2 when the file cannot be read or parsed.
 */
import {
  formatDiagnostic,
  type PolicyDiagnostic,
  type PolicyFile,
  validatePolicyFiles
} from "@cordon/policy/PolicyValidation"
import {
  formatResults,
  type PolicyTestResult,
  PolicyTestFile,
  runPolicyTests
} from "@cordon/policy/PolicyTests"
import { Args, Command } from "@effect/cli"
import { Console, Effect, Either, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** What a policy command concluded: the text to print and the process exit code. */
export interface PolicyCommandOutcome {
  readonly exitCode: number
  readonly output: string
  readonly diagnostics?: ReadonlyArray<PolicyDiagnostic>
  readonly results?: ReadonlyArray<PolicyTestResult>
}

const readText = (file: string) =>
  Effect.tryPromise({ try: () => fs.readFile(file, "utf8"), catch: () => `cannot read ${file}` })

/** Validates every `*.cedar` file in `dir` (see module docs for exit codes). */
export const validateDirectory = (dir: string): Effect.Effect<PolicyCommandOutcome> =>
  Effect.gen(function* () {
    const names = yield* Effect.either(
      Effect.tryPromise({ try: () => fs.readdir(dir), catch: () => `cannot read directory ${dir}` })
    )
    if (Either.isLeft(names)) return { exitCode: 2, output: `E_BAD_INPUT: ${names.left}` }
    const cedar = names.right.filter((n) => n.endsWith(".cedar")).sort()
    if (cedar.length === 0) return { exitCode: 2, output: `E_BAD_INPUT: no .cedar file in ${dir}` }
    const files: Array<PolicyFile> = []
    for (const name of cedar) {
      const text = yield* Effect.either(readText(path.join(dir, name)))
      if (Either.isLeft(text)) return { exitCode: 2, output: `E_BAD_INPUT: ${text.left}` }
      files.push({ name: path.join(dir, name), text: text.right })
    }
    const diagnostics = validatePolicyFiles(files)
    return diagnostics.length === 0
      ? { exitCode: 0, output: `${files.length} policy file(s) valid`, diagnostics }
      : { exitCode: 1, output: diagnostics.map(formatDiagnostic).join("\n"), diagnostics }
  })

const decodeTestFile = Schema.decodeUnknownEither(Schema.parseJson(PolicyTestFile))

/** Runs the policy test file `file` (see module docs for exit codes). */
export const testFile = (file: string): Effect.Effect<PolicyCommandOutcome> =>
  Effect.gen(function* () {
    const text = yield* Effect.either(readText(file))
    if (Either.isLeft(text)) return { exitCode: 2, output: `E_BAD_INPUT: ${text.left}` }
    const spec = decodeTestFile(text.right)
    if (Either.isLeft(spec)) return { exitCode: 2, output: `E_BAD_INPUT: ${file} is not a policy test file` }
    const files: Array<PolicyFile> = []
    for (const name of spec.right.policies) {
      const full = path.resolve(path.dirname(file), name)
      const body = yield* Effect.either(readText(full))
      if (Either.isLeft(body)) return { exitCode: 2, output: `E_BAD_INPUT: ${body.left}` }
      files.push({ name: full, text: body.right })
    }
    const diagnostics = validatePolicyFiles(files)
    if (diagnostics.length > 0) {
      return { exitCode: 1, output: diagnostics.map(formatDiagnostic).join("\n"), diagnostics }
    }
    const results = yield* Effect.either(
      runPolicyTests({
        tenant: spec.right.tenant,
        text: files.map((f) => f.text).join("\n"),
        cases: spec.right.cases
      })
    )
    if (Either.isLeft(results)) return { exitCode: 1, output: `E_CONFIG: ${results.left.reason}` }
    return {
      exitCode: results.right.every((r) => r.pass) ? 0 : 1,
      output: formatResults(results.right),
      results: results.right
    }
  })

const report = (outcome: PolicyCommandOutcome) =>
  Effect.zipRight(
    outcome.exitCode === 0 ? Console.log(outcome.output) : Console.error(outcome.output),
    Effect.sync(() => {
      process.exitCode = outcome.exitCode
    })
  )

const validate = Command.make("validate", { dir: Args.directory({ name: "dir" }) }, ({ dir }) =>
  Effect.flatMap(validateDirectory(dir), report)
).pipe(Command.withDescription("Validate every .cedar file of a directory against the Cordon schema"))

const test = Command.make("test", { file: Args.file({ name: "file" }) }, ({ file }) =>
  Effect.flatMap(testFile(file), report)
).pipe(Command.withDescription("Run a policy test file (requests and expected decisions)"))

/** `cordon policy validate|test`. */
export const policyCommand = Command.make("policy").pipe(Command.withSubcommands([validate, test]))
