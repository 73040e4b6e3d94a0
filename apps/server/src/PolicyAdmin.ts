/**
 * The broker side of tenant policy administration and human approvals: the control-plane-backed
 * approval ledger, boot-time loading of every tenant's active policy set into the `Authorizer`, and
 * the audited operations behind the `policy` API group (upload → validate → store version; activate
 * → validate → store pointer → hot swap; approve / reject through a Cedar `Approve` decision).
 */
import {
  type Approval,
  type ApprovalLedger,
  ApprovalUnavailable,
  checkConsume,
  pendingApproval
} from "@cordon/policy/ApprovalLedger"
import { Authorizer, type AuthorizerShape } from "@cordon/policy/Authorizer"
import { AuditLog } from "@cordon/store/AuditLog"
import { Approvals, type ApprovalsService } from "@cordon/store/Approvals"
import { PolicySets } from "@cordon/store/PolicySets"
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"

const unavailable = () =>
  new ApprovalUnavailable({ code: "E_APPROVAL_UNAVAILABLE", reason: "approval store failed" })

/** An {@link ApprovalLedger} over the control-plane `approvals` table (single use by conditional UPDATE). */
export const sqlApprovalLedger = (store: ApprovalsService): ApprovalLedger => ({
  create: (action, options) => {
    const approval = pendingApproval(action, options)
    return store.insert(approval).pipe(Effect.as(approval), Effect.mapError(unavailable))
  },
  get: (tenant, id) =>
    store.get(tenant, id).pipe(Effect.map(Option.getOrUndefined), Effect.mapError(unavailable)),
  list: (tenant, status) => store.list(tenant, status).pipe(Effect.mapError(unavailable)),
  decide: (tenant, id, verdict, by, now) =>
    store
      .decide({ tenant, id, verdict, by, nowMs: now })
      .pipe(Effect.map(Option.getOrUndefined), Effect.mapError(unavailable)),
  consume: (tenant, id, hash, now) =>
    Effect.gen(function* () {
      const found = Option.getOrUndefined(yield* store.get(tenant, id))
      const refusal = checkConsume(found, tenant, hash, now)
      if (refusal !== undefined) return { ok: false as const, code: refusal }
      // The conditional UPDATE decides a race: only one consumer gets the row back.
      const used = yield* store.markUsed({ tenant, id, actionHash: hash, nowMs: now })
      return Option.match(used, {
        onNone: () => ({ ok: false as const, code: "E_TOKEN_REPLAY" as const }),
        onSome: (approval: Approval) => ({ ok: true as const, approval })
      })
    }).pipe(Effect.mapError(unavailable))
})

/** The tenant set that stands in, fail-closed, for an active version that no longer loads. */
const denyAll = `@id("cordon.active-set-invalid")
forbid (principal, action, resource);`

/**
 * Loads every tenant's active policy set into the authoriser and installs the durable approval
 * ledger. A stored active set that no longer validates (e.g. after a platform schema change) is
 * replaced in memory by a deny-all set until an administrator activates a valid version.
 */
export const bootPolicies = Effect.gen(function* () {
  const authorizer = yield* Authorizer
  const sets = yield* PolicySets
  const approvals = yield* Approvals
  yield* authorizer.useApprovalLedger(sqlApprovalLedger(approvals))
  const active = yield* sets.allActive().pipe(Effect.orDie)
  for (const row of active) {
    yield* authorizer.activate({ tenant: row.tenant, version: row.version, text: row.text }).pipe(
      Effect.catchAll(() =>
        Effect.zipRight(
          Effect.logError(`tenant ${row.tenant}: active policy v${row.version} no longer loads; denying all`),
          authorizer.activate({ tenant: row.tenant, version: row.version, text: denyAll })
        )
      ),
      Effect.orDie
    )
  }
})

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/** One audit record of an administrative decision by user `user` of `tenant` (never a token). */
export const recordAdmin = (entry: {
  readonly tenant: string
  readonly user: string
  readonly session: string | null
  readonly action: string
  readonly resource: string
  readonly decision: "allow" | "deny"
  readonly errorCode: string | null
  readonly reason: string
  readonly policyVersion: string
}) =>
  Effect.flatMap(AuditLog, (log) =>
    log.append({
      ts: Date.now(),
      tenant: entry.tenant,
      session: entry.session,
      workload: `user:${entry.user}`,
      intent: "",
      actorChainHash: sha256(`user:${entry.user}`),
      chainDepth: 0,
      action: entry.action,
      resource: entry.resource,
      decision: entry.decision,
      errorCode: entry.errorCode,
      reason: entry.reason,
      policyVersion: entry.policyVersion,
      jtiHash: ""
    })
  )

/**
 * The Cedar decision for user `caller` deciding `approval` (action `Approve`): same tenant and the
 * `approver` role (platform policies), plus whatever the tenant's policies add.
 */
export const decideApprove = (
  authorizer: AuthorizerShape,
  caller: { readonly tenant: string; readonly user: string; readonly roles: ReadonlyArray<string> },
  approval: Approval
) =>
  authorizer.authorize({
    principal: { type: "User", tenant: caller.tenant, id: caller.user, roles: caller.roles },
    action: "Approve",
    resource: {
      type: "Approval",
      tenant: approval.tenant,
      id: approval.id,
      session: approval.session,
      tool: approval.tool
    },
    context: {
      tenant: caller.tenant,
      session: approval.session,
      intent: { name: "human-approval", tools: [], agents: [], actions: [] },
      depth: 0,
      actors: [],
      rootUser: caller.user,
      now: Math.floor(Date.now() / 1000),
      args: {},
      approved: false,
      tainted: false
    }
  })
