/**
 * Human approvals for actions a policy marks `@approval("required")`. An approval is bound to the
 * SHA-256 of the canonical action (tool, canonical arguments, tenant, session, task), is single-use
 * and short-lived; an approval for one action never authorises another (threat IP-07).
 *
 * `ApprovalLedger` is the port the tool gate uses; {@link makeMemoryLedger} keeps approvals in
 * memory, and a deployment installs a durable one (control-plane table) with
 * `Authorizer.useApprovalLedger`. {@link checkConsume} is the one rule both apply.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { canonicalJson } from "./internal/DecisionCache.js"

/** Default approval lifetime: 300 s, in milliseconds. */
export const DefaultApprovalTtlMs = 300_000

/** The action an approval is for, as the approver sees it (structured, never model prose). */
export interface ApprovalAction {
  readonly tenant: string
  readonly session: string
  readonly task: string
  readonly agent: string
  readonly tool: string
  /** The tool arguments (JSON). */
  readonly args: unknown
}

/** The canonical JSON of an action: `{ args, session, task, tenant, tool }` with sorted keys. */
export const canonicalAction = (a: ApprovalAction): string =>
  canonicalJson({ tool: a.tool, args: a.args ?? null, tenant: a.tenant, session: a.session, task: a.task })

/** SHA-256 (hex) of {@link canonicalAction}: what an approval is bound to. */
export const actionHash = (a: ApprovalAction): string =>
  createHash("sha256").update(canonicalAction(a), "utf8").digest("hex")

/** Approval status; `used` after a single successful consumption. */
export const ApprovalStatus = Schema.Literal("pending", "approved", "rejected", "used")
export type ApprovalStatus = typeof ApprovalStatus.Type

/** A stored approval. Times in epoch milliseconds; `args` is the canonical JSON of the arguments. */
export interface Approval {
  readonly id: string
  readonly tenant: string
  readonly session: string
  readonly task: string
  readonly agent: string
  readonly tool: string
  readonly args: string
  readonly actionHash: string
  readonly status: ApprovalStatus
  readonly createdAt: number
  readonly expiresAt: number
  readonly decidedBy: string | null
  readonly decidedAt: number | null
  readonly usedAt: number | null
}

/**
 * Why an approval was not consumed: `E_APPROVAL_BINDING` (unknown id, another tenant, session or
 * task, or a different action hash), `E_TOKEN_REPLAY` (already used), `E_APPROVAL_REJECTED`,
 * `E_APPROVAL_EXPIRED`, `E_APPROVAL_PENDING` (not decided yet).
 */
export type ConsumeRefusal =
  | "E_APPROVAL_BINDING"
  | "E_TOKEN_REPLAY"
  | "E_APPROVAL_REJECTED"
  | "E_APPROVAL_EXPIRED"
  | "E_APPROVAL_PENDING"

/** The approval ledger could not be read or written (`E_APPROVAL_UNAVAILABLE`); callers deny. */
export class ApprovalUnavailable extends Schema.TaggedError<ApprovalUnavailable>()("ApprovalUnavailable", {
  code: Schema.Literal("E_APPROVAL_UNAVAILABLE"),
  reason: Schema.String
}) {}

/** The port the gate and the API use. All methods are scoped to one tenant. */
export interface ApprovalLedger {
  /** Creates a pending approval for `action`, expiring `ttlMs` after `now` (epoch ms). */
  readonly create: (
    action: ApprovalAction,
    options: { readonly now: number; readonly ttlMs: number }
  ) => Effect.Effect<Approval, ApprovalUnavailable>
  /** The tenant's approval `id`, if any. */
  readonly get: (tenant: string, id: string) => Effect.Effect<Approval | undefined, ApprovalUnavailable>
  /** The tenant's approvals, newest first, optionally of one status (at most 200). */
  readonly list: (
    tenant: string,
    status?: ApprovalStatus
  ) => Effect.Effect<ReadonlyArray<Approval>, ApprovalUnavailable>
  /**
   * Approves or rejects a pending, unexpired approval of `tenant`, recording `by`. Yields the
   * updated approval, or `undefined` when there is no such pending, unexpired approval.
   */
  readonly decide: (
    tenant: string,
    id: string,
    verdict: "approved" | "rejected",
    by: string,
    now: number
  ) => Effect.Effect<Approval | undefined, ApprovalUnavailable>
  /**
   * Consumes approval `id` for the action whose {@link actionHash} is `hash`: succeeds (marking it
   * `used`, atomically) only when it is the tenant's, approved, unexpired, unused and bound to
   * `hash`; otherwise yields the refusal code.
   */
  readonly consume: (
    tenant: string,
    id: string,
    hash: string,
    now: number
  ) => Effect.Effect<
    | { readonly ok: true; readonly approval: Approval }
    | { readonly ok: false; readonly code: ConsumeRefusal },
    ApprovalUnavailable
  >
}

/** A fresh approval id: `apr-` + 128 random bits (hex). */
export const newApprovalId = (): string => `apr-${randomBytes(16).toString("hex")}`

/**
 * The rule of {@link ApprovalLedger.consume} for a looked-up approval (or `undefined`): the refusal
 * code, or `undefined` when it may be consumed now. The binding is checked first, so an approval
 * never reveals anything about an action it is not bound to.
 */
export const checkConsume = (
  approval: Approval | undefined,
  tenant: string,
  hash: string,
  now: number
): ConsumeRefusal | undefined => {
  if (approval === undefined || approval.tenant !== tenant || approval.actionHash !== hash) {
    return "E_APPROVAL_BINDING"
  }
  if (approval.status === "used") return "E_TOKEN_REPLAY"
  if (approval.status === "rejected") return "E_APPROVAL_REJECTED"
  if (now >= approval.expiresAt) return "E_APPROVAL_EXPIRED"
  if (approval.status === "pending") return "E_APPROVAL_PENDING"
  return undefined
}

/** A new pending approval record for `action`. */
export const pendingApproval = (
  action: ApprovalAction,
  options: { readonly now: number; readonly ttlMs: number }
): Approval => ({
  id: newApprovalId(),
  tenant: action.tenant,
  session: action.session,
  task: action.task,
  agent: action.agent,
  tool: action.tool,
  args: canonicalJson(action.args ?? null),
  actionHash: actionHash(action),
  status: "pending",
  createdAt: options.now,
  expiresAt: options.now + options.ttlMs,
  decidedBy: null,
  decidedAt: null,
  usedAt: null
})

/** An in-memory ledger (for tests and a broker without a durable one); at most 10,000 approvals. */
export const makeMemoryLedger = (): ApprovalLedger => {
  const byId = new Map<string, Approval>()
  const put = (a: Approval) => {
    byId.delete(a.id)
    if (byId.size >= 10_000) {
      const oldest = byId.keys().next()
      if (oldest.done !== true) byId.delete(oldest.value)
    }
    byId.set(a.id, a)
    return a
  }
  const own = (tenant: string, id: string) => {
    const a = byId.get(id)
    return a !== undefined && a.tenant === tenant ? a : undefined
  }
  return {
    create: (action, options) => Effect.sync(() => put(pendingApproval(action, options))),
    get: (tenant, id) => Effect.sync(() => own(tenant, id)),
    list: (tenant, status) =>
      Effect.sync(() =>
        [...byId.values()]
          .filter((a) => a.tenant === tenant && (status === undefined || a.status === status))
          .reverse()
          .slice(0, 200)
      ),
    decide: (tenant, id, verdict, by, now) =>
      Effect.sync(() => {
        const a = own(tenant, id)
        if (a === undefined || a.status !== "pending" || now >= a.expiresAt) return undefined
        return put({ ...a, status: verdict, decidedBy: by, decidedAt: now })
      }),
    consume: (tenant, id, hash, now) =>
      Effect.sync(() => {
        const a = own(tenant, id)
        const refusal = checkConsume(a, tenant, hash, now)
        if (refusal !== undefined || a === undefined)
          return { ok: false, code: refusal ?? "E_APPROVAL_BINDING" }
        return { ok: true, approval: put({ ...a, status: "used", usedAt: now }) }
      })
  }
}
