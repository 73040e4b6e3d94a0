/**
 * Validation of tenant policy files with source positions, for `cordon policy validate` and for
 * policy uploads: parse errors, missing or duplicate `@id`s, ids in the reserved `platform.`
 * namespace, templates, bad `@approval` values and strict-mode schema validation errors, each with
 * its file, 1-based line and column.
 *
 * @see https://docs.cedarpolicy.com/policies/validation.html
 * @module
 */
import * as Cedar from "@cedar-policy/cedar-wasm/nodejs"
import { CedarSchema } from "./CedarSchema.js"
import { PlatformIdPrefix, PlatformPolicies } from "./PlatformPolicies.js"

/** One problem found in a policy file. `line` and `column` are 1-based. */
export interface PolicyDiagnostic {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly policyId: string | null
  readonly message: string
}

/** A policy file: its name (for diagnostics) and its text. */
export interface PolicyFile {
  readonly name: string
  readonly text: string
}

const position = (text: string, offset: number) => {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)))
  const lines = before.split("\n")
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 }
}

const describe = (e: Cedar.DetailedError) => (e.help ? `${e.message} (${e.help})` : e.message)

const guarded = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** Where each policy came from. */
interface Located {
  readonly file: PolicyFile
  readonly offset: number
}

/**
 * Checks `files` together with the platform set against `CedarSchema` in strict mode. Returns every
 * problem found (empty when the files are valid), in file order. Never throws.
 */
export const validatePolicyFiles = (files: ReadonlyArray<PolicyFile>): ReadonlyArray<PolicyDiagnostic> => {
  const out: Array<PolicyDiagnostic> = []
  const at = (file: PolicyFile, offset: number, policyId: string | null, message: string) =>
    out.push({ file: file.name, ...position(file.text, offset), policyId, message })
  const platform = guarded(() => Cedar.policySetTextToParts(PlatformPolicies))
  const policies: Record<string, string> = {}
  if (platform?.type === "success") {
    platform.policies.forEach((text, i) => {
      policies[`platform#${i}`] = text
    })
  }
  const located = new Map<string, Located>()
  for (const file of files) {
    const parts = guarded(() => Cedar.policySetTextToParts(file.text))
    if (parts === undefined) {
      at(file, 0, null, "cedar-wasm could not parse the file")
      continue
    }
    if (parts.type === "failure") {
      for (const e of parts.errors) at(file, e.sourceLocations?.[0]?.start ?? 0, null, describe(e))
      continue
    }
    if (parts.policy_templates.length > 0) at(file, 0, null, "templates are not supported")
    let cursor = 0
    for (const text of parts.policies) {
      const found = file.text.indexOf(text, cursor)
      const offset = found >= 0 ? found : cursor
      if (found >= 0) cursor = found + text.length
      const json = guarded(() => Cedar.policyToJson(text))
      if (json === undefined || json.type === "failure") {
        at(file, offset, null, "policy does not parse")
        continue
      }
      const id = json.json.annotations?.id
      if (id === undefined || id.trim() === "") {
        at(file, offset, null, "policy without an @id annotation")
        continue
      }
      if (id.startsWith(PlatformIdPrefix)) {
        at(file, offset, id, `@id "${id}" uses the reserved "${PlatformIdPrefix}" prefix`)
        continue
      }
      const approval = json.json.annotations?.approval
      if (approval !== undefined && approval !== "required") {
        at(file, offset, id, `@approval must be "required"`)
      }
      const previous = located.get(id)
      if (previous !== undefined) {
        at(file, offset, id, `duplicate @id "${id}" (first in ${previous.file.name})`)
        continue
      }
      located.set(id, { file, offset })
      policies[id] = text
    }
  }
  const validation = guarded(() =>
    Cedar.validate({
      schema: CedarSchema,
      policies: { staticPolicies: policies },
      validationSettings: { mode: "strict" }
    })
  )
  if (validation === undefined || validation.type === "failure") {
    const first = files[0]
    if (first !== undefined) at(first, 0, null, "validation could not run")
    return out
  }
  // Strict validation reports one error per action environment: keep the first per position.
  const seen = new Set<string>()
  for (const { policyId, error } of validation.validationErrors) {
    const where = located.get(policyId)
    if (where === undefined) continue
    const offset = where.offset + (error.sourceLocations?.[0]?.start ?? 0)
    const key = `${policyId}\u0000${offset}`
    if (seen.has(key)) continue
    seen.add(key)
    at(where.file, offset, policyId, describe(error))
  }
  return out
}

/** `file:line:column: [policy] message` — the one-line form the CLI prints. */
export const formatDiagnostic = (d: PolicyDiagnostic): string =>
  `${d.file}:${d.line}:${d.column}: ${d.policyId === null ? "" : `[${d.policyId}] `}${d.message}`
