/**
 * Thin, total wrapper over `@cedar-policy/cedar-wasm`: loads a schema and policy sets once
 * (parse, `@id` mapping, strict validation, pre-parse into the wasm module's thread-local cache)
 * and evaluates requests with `statefulIsAuthorized`. Nothing here throws: wasm exceptions become
 * configuration errors at load time and evaluation errors per request.
 *
 * @internal
 */
import * as Cedar from "@cedar-policy/cedar-wasm/nodejs"
import * as Effect from "effect/Effect"
import { PolicyConfigError } from "../Errors.js"

/** A policy set text and whether its `@id`s may use the reserved prefix. */
export interface PolicySource {
  readonly text: string
  readonly origin: "platform" | "tenant"
}

/** A loaded schema and policy set, addressed by their pre-parse ids. */
export interface Engine {
  readonly schemaName: string
  readonly policySetId: string
  /** The `@id` of every loaded policy, in load order. */
  readonly policyIds: ReadonlyArray<string>
  /** The `@id`s of the policies annotated `@approval("required")`. */
  readonly approvalIds: ReadonlySet<string>
}

/** One policy of a source: its `@id`, its text and whether it is annotated `@approval("required")`. */
export interface SplitPolicy {
  readonly id: string
  readonly text: string
  readonly approval: boolean
}

/** A request in Cedar's JSON form: entity uids are `{ type, id }` objects, never Cedar text. */
export interface CedarCall {
  readonly principal: Cedar.TypeAndId
  readonly action: Cedar.TypeAndId
  readonly resource: Cedar.TypeAndId
  readonly context: Cedar.Context
  readonly entities: Cedar.Entities
}

/** The result of one evaluation. `errors` lists validation and evaluation diagnostics. */
export type Evaluation =
  | {
      readonly _tag: "Evaluated"
      readonly decision: Cedar.Decision
      readonly reasons: ReadonlyArray<string>
      readonly errors: ReadonlyArray<string>
    }
  | { readonly _tag: "Failed"; readonly errors: ReadonlyArray<string> }

/** Renders Cedar diagnostics without source excerpts. */
export const formatErrors = (errors: ReadonlyArray<Cedar.DetailedError>): ReadonlyArray<string> =>
  errors.map((e) => (e.help ? `${e.message} (${e.help})` : e.message))

const configError = (reason: string) => new PolicyConfigError({ reason })

const describeThrown = (cause: unknown): string =>
  cause instanceof Error ? `cedar-wasm threw: ${cause.message}` : "cedar-wasm threw"

const guard = <A>(what: string, f: () => A): Effect.Effect<A, PolicyConfigError> =>
  Effect.try({ try: f, catch: (cause) => configError(`${what}: ${describeThrown(cause)}`) })

/**
 * Splits a source into its policies, checking each has a unique-able `@id`, that tenant ids avoid
 * `reservedPrefix`, that there are no templates and that `@approval` (if any) is `"required"`.
 */
export const splitPolicies = (
  source: PolicySource,
  reservedPrefix: string
): Effect.Effect<ReadonlyArray<SplitPolicy>, PolicyConfigError> =>
  Effect.gen(function* () {
    const parts = yield* guard("policy parse", () => Cedar.policySetTextToParts(source.text))
    if (parts.type === "failure") {
      return yield* configError(
        `${source.origin} policies do not parse: ${formatErrors(parts.errors).join("; ")}`
      )
    }
    if (parts.policy_templates.length > 0) {
      return yield* configError(`${source.origin} policies: templates are not supported`)
    }
    const out: Array<SplitPolicy> = []
    for (const text of parts.policies) {
      const json = yield* guard("policy parse", () => Cedar.policyToJson(text))
      if (json.type === "failure") {
        return yield* configError(
          `${source.origin} policy does not parse: ${formatErrors(json.errors).join("; ")}`
        )
      }
      const id = json.json.annotations?.id
      if (id === undefined || id.trim() === "") {
        return yield* configError(`${source.origin} policy without an @id annotation`)
      }
      if (source.origin === "tenant" && id.startsWith(reservedPrefix)) {
        return yield* configError(`tenant policy @id "${id}" uses the reserved "${reservedPrefix}" prefix`)
      }
      const approval = json.json.annotations?.approval
      if (approval !== undefined && approval !== "required") {
        return yield* configError(`policy "${id}": @approval must be "required"`)
      }
      out.push({ id, text, approval: approval === "required" })
    }
    return out
  })

/**
 * Loads `schemaText` and the policies of `sources` under the ids `cordon.schema.<schemaKey>` and
 * `cordon.policies.<policyKey>` (keys are content hashes, so reloading identical text is idempotent).
 * Fails with `PolicyConfigError` when the schema or a policy does not parse, an `@id` is missing or
 * repeated, a tenant `@id` starts with `reservedPrefix`, or strict validation reports an error.
 */
export const load = (options: {
  readonly schemaText: string
  readonly schemaKey: string
  readonly sources: ReadonlyArray<PolicySource>
  readonly policyKey: string
  readonly reservedPrefix: string
  /** `false` validates only (nothing is pre-parsed into the wasm cache); default `true`. */
  readonly preparse?: boolean
}): Effect.Effect<Engine, PolicyConfigError> =>
  Effect.gen(function* () {
    const schemaCheck = yield* guard("schema parse", () => Cedar.checkParseSchema(options.schemaText))
    if (schemaCheck.type === "failure") {
      return yield* configError(`schema does not parse: ${formatErrors(schemaCheck.errors).join("; ")}`)
    }
    const policies: Record<string, string> = {}
    const policyIds: Array<string> = []
    const approvalIds = new Set<string>()
    for (const source of options.sources) {
      for (const { id, text, approval } of yield* splitPolicies(source, options.reservedPrefix)) {
        if (Object.hasOwn(policies, id)) return yield* configError(`duplicate policy @id "${id}"`)
        policies[id] = text
        policyIds.push(id)
        if (approval) approvalIds.add(id)
      }
    }
    const policySet: Cedar.PolicySet = { staticPolicies: policies }
    const validation = yield* guard("validation", () =>
      Cedar.validate({
        schema: options.schemaText,
        policies: policySet,
        validationSettings: { mode: "strict" }
      })
    )
    if (validation.type === "failure") {
      return yield* configError(`validation failed: ${formatErrors(validation.errors).join("; ")}`)
    }
    if (validation.validationErrors.length > 0) {
      const details = validation.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`)
      return yield* configError(`policies do not validate against the schema: ${details.join("; ")}`)
    }
    const schemaName = `cordon.schema.${options.schemaKey}`
    const policySetId = `cordon.policies.${options.policyKey}`
    if (options.preparse === false) return { schemaName, policySetId, policyIds, approvalIds }
    const schemaLoaded = yield* guard("schema pre-parse", () =>
      Cedar.preparseSchema(schemaName, options.schemaText)
    )
    if (schemaLoaded.type === "failure") {
      return yield* configError(`schema pre-parse failed: ${formatErrors(schemaLoaded.errors).join("; ")}`)
    }
    const setLoaded = yield* guard("policy pre-parse", () => Cedar.preparsePolicySet(policySetId, policySet))
    if (setLoaded.type === "failure") {
      return yield* configError(`policy pre-parse failed: ${formatErrors(setLoaded.errors).join("; ")}`)
    }
    return { schemaName, policySetId, policyIds, approvalIds }
  })

/**
 * Evaluates `call` against a loaded engine with request validation on. Total: a wasm exception,
 * a schema violation in the request or entities, or a policy evaluation error are all reported
 * (as `Failed`, or as `Evaluated` with non-empty `errors`) for the caller to deny.
 */
export const evaluate = (engine: Engine, call: CedarCall): Evaluation => {
  let answer: Cedar.AuthorizationAnswer
  try {
    answer = Cedar.statefulIsAuthorized(statefulCall(engine, call))
  } catch (cause) {
    return { _tag: "Failed", errors: [describeThrown(cause)] }
  }
  if (answer.type === "failure") return { _tag: "Failed", errors: formatErrors(answer.errors) }
  const { decision, diagnostics } = answer.response
  return {
    _tag: "Evaluated",
    decision,
    reasons: diagnostics.reason,
    errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`)
  }
}

/** cedar-wasm's bare `statefulIsAuthorized` (the `policy.cedar.raw` benchmark's baseline). */
export const rawIsAuthorized: typeof Cedar.statefulIsAuthorized = Cedar.statefulIsAuthorized

/** The stateful call `evaluate` makes for `call` on `engine` (for benchmarks comparing with the raw call). */
export const statefulCall = (engine: Engine, call: CedarCall): Cedar.StatefulAuthorizationCall => ({
  principal: call.principal,
  action: call.action,
  resource: call.resource,
  context: call.context,
  entities: call.entities,
  preparsedSchemaName: engine.schemaName,
  preparsedPolicySetId: engine.policySetId,
  validateRequest: true
})
