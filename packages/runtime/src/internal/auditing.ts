import type { TaskClaims } from "@cordon/identity/Claims"
import { AuditLog } from "@cordon/store/AuditLog"
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
 * never a token. Fails (the caller must fail closed) when the audit log cannot be written.
 */
export const recordDecision = (d: DecisionRecord) =>
  Effect.flatMap(AuditLog, (log) => {
    const leaf = d.chain[d.chain.length - 1]
    return log.append({
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
  })
