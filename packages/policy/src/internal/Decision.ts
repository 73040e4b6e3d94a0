/**
 * Maps a Cedar evaluation to a `PolicyDecision`, failing closed: any validation or evaluation
 * error is a deny with `E_POLICY_EVALUATION`, whatever Cedar decided.
 *
 * @internal
 */
import { denyCodeFor } from "../PlatformPolicies.js"
import type { PolicyDecision } from "../PolicyRequest.js"
import type { Evaluation } from "./CedarEngine.js"

/** A deny with `E_POLICY_EVALUATION`, no determining policy and `errors` as diagnostics. */
export const evaluationError = (policyVersion: string, errors: ReadonlyArray<string>): PolicyDecision => ({
  decision: "deny",
  code: "E_POLICY_EVALUATION",
  determiningPolicies: [],
  policyVersion,
  errors
})

/**
 * The decision for `evaluation`: `Failed` or any policy error → `E_POLICY_EVALUATION`; allow
 * (with at least one satisfied `permit`) → `code: null`; deny → {@link denyCodeFor} the satisfied
 * `forbid`s (with `approvalIds`, the `@approval("required")` policies). `determiningPolicies` are
 * sorted.
 */
export const fromEvaluation = (
  evaluation: Evaluation,
  policyVersion: string,
  approvalIds: ReadonlySet<string> = new Set()
): PolicyDecision => {
  if (evaluation._tag === "Failed") return evaluationError(policyVersion, evaluation.errors)
  if (evaluation.errors.length > 0) return evaluationError(policyVersion, evaluation.errors)
  const determiningPolicies = [...evaluation.reasons].sort()
  if (evaluation.decision === "allow") {
    if (determiningPolicies.length === 0) {
      return evaluationError(policyVersion, ["allow without a determining policy"])
    }
    return { decision: "allow", code: null, determiningPolicies, policyVersion, errors: [] }
  }
  return {
    decision: "deny",
    code: denyCodeFor(determiningPolicies, approvalIds),
    determiningPolicies,
    policyVersion,
    errors: []
  }
}
