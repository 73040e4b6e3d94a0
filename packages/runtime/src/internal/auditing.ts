import type { TaskClaims } from "@cordon/identity/Claims"
import { AuditLog } from "@cordon/store/AuditLog"
import { AuditUnavailableError } from "@cordon/store/Errors"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/** One policy decision to record; `resource` is tenant-qualified (`acme/Tool/outbox.draft`). */
export interface DecisionRecord {
  readonly tenant: string
  readonly session: string | null
  readonly workload: string
  readonly intent: string
  readonly chain: ReadonlyArray<TaskClaims>
  readonly action: string
  readonly resource: string
  readonly decision: "allow" | "deny"
  readonly errorCode: string | null
  readonly reason: string
  readonly policyVersion: string
}

/**
 * Appends a decision to the hash-chained audit log. Stores hashes of the actor chain and of the leaf `jti`,
 * never a token. Fails with `AuditUnavailableError` (`E_AUDIT_UNAVAILABLE`; the caller must fail closed,
 * AT-03) when the audit log cannot be written — also when the sink throws instead of failing.
 */
export const recordDecision = (d: DecisionRecord) =>
  Effect.flatMap(AuditLog, (log) => {
    const leaf = d.chain[d.chain.length - 1]
    return log
      .append({
        ts: Date.now(),
        tenant: d.tenant,
        session: d.session,
        workload: d.workload,
        intent: d.intent,
        actorChainHash: sha256(d.chain.map((c) => c.sub).join(" ")),
        chainDepth: leaf?.dep ?? 0,
        action: d.action,
        resource: d.resource,
        decision: d.decision,
        errorCode: d.errorCode,
        reason: d.reason,
        policyVersion: d.policyVersion,
        jtiHash: leaf === undefined ? "" : sha256(leaf.jti)
      })
      .pipe(
        Effect.catchAllDefect(() =>
          Effect.fail(new AuditUnavailableError({ code: "E_AUDIT_UNAVAILABLE", reason: "audit sink failed" }))
        )
      )
  })

/**
 * A lifecycle event decided by the broker itself (tenant suspension, job cancellation, task recovery):
 * recorded as an `allow` of `action` on `resource` by workload `broker`, with `reason` (structured text).
 */
export const recordLifecycle = (e: {
  readonly tenant: string
  readonly session: string | null
  readonly action: string
  readonly resource: string
  readonly reason: string
  readonly errorCode?: string
}) =>
  Effect.flatMap(AuditLog, (log) =>
    log.append({
      ts: Date.now(),
      tenant: e.tenant,
      session: e.session,
      workload: "broker",
      intent: "",
      actorChainHash: "",
      chainDepth: 0,
      action: e.action,
      resource: e.resource,
      decision: "allow",
      errorCode: e.errorCode ?? null,
      reason: e.reason,
      policyVersion: "",
      jtiHash: ""
    })
  )
