/**
 * The human-approval step of the tool gate (issue 4 §5, threat IP-07). A tool call denied only by
 * tenant policies annotated `@approval("required")` (deny code `E_APPROVAL_REQUIRED`) gets a pending
 * approval bound to the SHA-256 of its canonical action (tool, canonical arguments, tenant, session,
 * task), living {@link ApprovalTtlMs}; the agent is refused with `E_APPROVAL_REQUIRED` and the
 * approval id. A later call presenting that id is decided again with `context.approved = true` only
 * after the ledger consumed the approval: approved, unexpired, unused and bound to this exact
 * action. Otherwise the call is refused with `E_APPROVAL_BINDING` (another action, tenant, session
 * or task), `E_TOKEN_REPLAY` (already used), `E_APPROVAL_REJECTED`, `E_APPROVAL_EXPIRED` or
 * `E_APPROVAL_PENDING`. Every step is one audited decision.
 *
 * @internal
 */
import { actionHash, type ApprovalAction } from "@cordon/policy/ApprovalLedger"
import { Authorizer } from "@cordon/policy/Authorizer"
import type { PolicyDecision } from "@cordon/policy/PolicyRequest"
import * as Effect from "effect/Effect"

/** Lifetime of a pending approval: 300 s, in milliseconds. */
export const ApprovalTtlMs = 300_000

/** A decision as recorded by the gate (Cedar's, or a broker rule's with its own code). */
type Verdict = Omit<PolicyDecision, "code"> & { readonly code: string | null }

/** Records `verdict` for the call's step with `detail` appended to the audit reason. */
type Judge<E, R> = (verdict: Verdict, detail?: string) => Effect.Effect<Verdict, E, R>

/** The outcome: the recorded verdict and the reason to give the agent when it is a deny. */
export interface GateOutcome {
  readonly verdict: Verdict
  readonly reason: string
}

/**
 * Runs the policy decision of one tool call through the approval step. `decide(approved)` asks the
 * authoriser (with `context.approved`); `judge` audits. Without `approval` the call is decided once;
 * when that decision is `E_APPROVAL_REQUIRED` a pending approval is created first and its id goes
 * into the audit record and the refusal reason (`approval required: <id>`). With `approval`, the
 * approval is consumed before the single decision with `approved = true`. A ledger failure denies
 * with `E_APPROVAL_UNAVAILABLE`.
 */
export const approvalGate = <E, R>(input: {
  readonly action: ApprovalAction
  readonly approval: string | undefined
  readonly decide: (approved: boolean) => Effect.Effect<PolicyDecision>
  readonly judge: Judge<E, R>
}): Effect.Effect<GateOutcome, E, R | Authorizer> =>
  Effect.gen(function* () {
    const authorizer = yield* Authorizer
    const ledger = authorizer.approvals()
    const { action } = input
    const version = authorizer.versionOf(action.tenant)
    const deny = (code: string, detail: string): Effect.Effect<GateOutcome, E, R> =>
      Effect.map(
        input.judge(
          {
            decision: "deny",
            code,
            determiningPolicies: ["broker.approval"],
            policyVersion: version,
            errors: []
          },
          detail
        ),
        (verdict) => ({ verdict, reason: detail })
      )
    if (input.approval === undefined) {
      const decision = yield* input.decide(false)
      if (decision.code !== "E_APPROVAL_REQUIRED") {
        return { verdict: yield* input.judge(decision), reason: `${action.tool} denied` }
      }
      const created = yield* ledger
        .create(action, { now: Date.now(), ttlMs: ApprovalTtlMs })
        .pipe(Effect.either)
      if (created._tag === "Left") return yield* deny("E_APPROVAL_UNAVAILABLE", "approval ledger unavailable")
      const detail = `approval required: ${created.right.id}`
      return { verdict: yield* input.judge(decision, detail), reason: detail }
    }
    const consumed = yield* ledger
      .consume(action.tenant, input.approval, actionHash(action), Date.now())
      .pipe(Effect.either)
    if (consumed._tag === "Left") return yield* deny("E_APPROVAL_UNAVAILABLE", "approval ledger unavailable")
    if (!consumed.right.ok) {
      return yield* deny(consumed.right.code, `approval ${input.approval} refused (${consumed.right.code})`)
    }
    const decision = yield* input.decide(true)
    return {
      verdict: yield* input.judge(decision, `approval ${input.approval} consumed`),
      reason: `${action.tool} denied`
    }
  })
