/**
 * Domain errors of `@cordon/policy`. Every error carries a stable `code` and a `reason`; reasons
 * name policies and error classes only, never tokens, keys or tenant data.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { DenyCode, type PolicyDecision } from "./PolicyRequest.js"

/**
 * The schema or a policy set could not be loaded at boot: a parse error, a policy without a unique
 * `@id`, a tenant policy using the reserved `platform.` prefix, a template, or a strict-mode
 * validation error. `code` is always `E_CONFIG`. The `reason` quotes Cedar's diagnostics, which
 * refer to the policy text (configuration), never to request data.
 */
export class PolicyConfigError extends Schema.TaggedError<PolicyConfigError>()("PolicyConfigError", {
  code: Schema.Literal("E_CONFIG").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_CONFIG" as const)
  ),
  reason: Schema.String
}) {
  override get message(): string {
    return `policy configuration rejected: ${this.reason}`
  }
}

/**
 * A request was denied by the policy decision point. Raised by callers from a deny
 * {@link PolicyDecision} with {@link decisionToError} or {@link enforce}; carries the decision's
 * `code`, the `policyVersion` it was made under and the `@id`s of the determining policies.
 */
export class PolicyDenied extends Schema.TaggedError<PolicyDenied>()("PolicyDenied", {
  code: DenyCode,
  reason: Schema.String,
  policyVersion: Schema.String,
  determiningPolicies: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `policy denied (${this.code}): ${this.reason}`
  }
}

const describe = (decision: PolicyDecision): string => {
  if (decision.decision === "allow") return "decision is not a deny"
  if (decision.code === "E_POLICY_EVALUATION") return "request could not be evaluated"
  if (decision.determiningPolicies.length === 0) return "no policy permits the request"
  return `forbidden by ${decision.determiningPolicies.join(", ")}`
}

/**
 * Builds the {@link PolicyDenied} error for a deny decision. Fails closed on misuse: an allow
 * decision, or a deny without a code, maps to `E_POLICY_EVALUATION`.
 */
export const decisionToError = (decision: PolicyDecision): PolicyDenied =>
  new PolicyDenied({
    code: decision.decision === "deny" && decision.code !== null ? decision.code : "E_POLICY_EVALUATION",
    reason: describe(decision),
    policyVersion: decision.policyVersion,
    determiningPolicies: decision.determiningPolicies
  })

/** Succeeds when `decision` allows (and carries no deny code); fails with {@link PolicyDenied} otherwise. */
export const enforce = (decision: PolicyDecision): Effect.Effect<void, PolicyDenied> =>
  decision.decision === "allow" && decision.code === null
    ? Effect.void
    : Effect.fail(decisionToError(decision))
