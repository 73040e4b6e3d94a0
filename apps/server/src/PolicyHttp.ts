/**
 * Handlers of the `policy` API group (`@cordon/api` `PolicyGroup`): tenant policy versions and human
 * approvals, for the caller's tenant only. Policy endpoints need the caller-token role
 * `policy-admin`, approval endpoints `approver` (`Forbidden` `E_FORBIDDEN_ROLE` otherwise); every
 * upload, activation and approval decision is audited. Building the layer loads every tenant's
 * active set into the `Authorizer` and installs the control-plane approval ledger.
 */
import {
  type ActivePolicyView,
  type ApprovalView,
  BadRequest,
  Caller,
  CordonApi,
  Forbidden,
  NotFound,
  type PolicyVersionView,
  Unavailable
} from "@cordon/api"
import type { Approval } from "@cordon/policy/ApprovalLedger"
import { Authorizer } from "@cordon/policy/Authorizer"
import { formatDiagnostic, validatePolicyFiles } from "@cordon/policy/PolicyValidation"
import { Approvals } from "@cordon/store/Approvals"
import { type PolicyVersionRow, PolicySets } from "@cordon/store/PolicySets"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { bootPolicies, decideApprove, recordAdmin } from "./PolicyAdmin.js"

const storeDown = () => new Unavailable({ code: "E_STORE", message: "control plane unavailable" })
const auditDown = () => new Unavailable({ code: "E_AUDIT_UNAVAILABLE", message: "audit log unavailable" })

/** The caller, with its roles, when it holds `role`; `Forbidden` otherwise. */
const requireRole = (role: "policy-admin" | "approver") =>
  Effect.flatMap(Caller, (caller) =>
    caller.roles?.includes(role) === true
      ? Effect.succeed({ tenant: caller.tenant, user: caller.user, roles: caller.roles })
      : Effect.fail(new Forbidden({ code: "E_FORBIDDEN_ROLE", message: `the ${role} role is required` }))
  )

const versionView = (row: PolicyVersionRow, active: number | undefined): PolicyVersionView => ({
  tenant: row.tenant,
  version: row.version,
  sha256: row.sha256,
  text: row.text,
  createdAt: row.createdAt,
  createdBy: row.createdBy,
  active: row.version === active
})

/** The approver's view: the structured action; a pending or approved approval past expiry is `expired`. */
export const approvalView = (a: Approval, now = Date.now()): ApprovalView => ({
  id: a.id,
  tenant: a.tenant,
  session: a.session,
  task: a.task,
  agent: a.agent,
  tool: a.tool,
  args: JSON.parse(a.args) as unknown,
  actionHash: a.actionHash,
  status: (a.status === "pending" || a.status === "approved") && now >= a.expiresAt ? "expired" : a.status,
  createdAt: a.createdAt,
  expiresAt: a.expiresAt,
  decidedBy: a.decidedBy,
  decidedAt: a.decidedAt
})

const approvalNotFound = (id: string) => new NotFound({ code: "E_NOT_FOUND", resource: "approval", id })

export const PolicyLive = HttpApiBuilder.group(CordonApi, "policy", (handlers) =>
  Effect.gen(function* () {
    yield* bootPolicies
    const authorizer = yield* Authorizer
    const sets = yield* PolicySets
    // One activation at a time: validate, move the stored pointer, then swap the in-memory set.
    const activation = yield* Effect.makeSemaphore(1)
    const activeVersion = (tenant: string) =>
      sets.active(tenant).pipe(
        Effect.map((a) => Option.getOrUndefined(Option.map(a, (r) => r.version))),
        Effect.mapError(storeDown)
      )

    const decideApproval = (approvalId: string, verdict: "approved" | "rejected") =>
      Effect.gen(function* () {
        const caller = yield* requireRole("approver")
        const ledger = authorizer.approvals()
        const found = yield* ledger.get(caller.tenant, approvalId).pipe(Effect.mapError(storeDown))
        if (found === undefined) return yield* approvalNotFound(approvalId)
        const decision = yield* decideApprove(authorizer, caller, found)
        const audit = (code: string | null, reason: string, allowed: boolean) =>
          recordAdmin({
            tenant: caller.tenant,
            user: caller.user,
            session: found.session,
            action: "Approve",
            resource: `${found.tenant}/Approval/${found.id}`,
            decision: allowed ? "allow" : "deny",
            errorCode: code,
            reason,
            policyVersion: decision.policyVersion
          }).pipe(Effect.mapError(auditDown))
        if (decision.decision === "deny") {
          yield* audit(decision.code, `deny by ${decision.determiningPolicies.join(",") || "none"}`, false)
          return yield* new Forbidden({ code: decision.code ?? "E_POLICY_DENY", message: "approval refused" })
        }
        const decided = yield* ledger
          .decide(caller.tenant, approvalId, verdict, caller.user, Date.now())
          .pipe(Effect.mapError(storeDown))
        if (decided === undefined) {
          yield* audit("E_APPROVAL_CLOSED", "approval is no longer pending", false)
          return yield* approvalNotFound(approvalId)
        }
        yield* audit(
          null,
          `${verdict} ${found.tool} hash ${found.actionHash.slice(0, 16)} by ${caller.user}`,
          true
        )
        return approvalView(decided)
      })

    return handlers
      .handle("upload", ({ payload }) =>
        Effect.gen(function* () {
          const caller = yield* requireRole("policy-admin")
          const diagnostics = validatePolicyFiles([{ name: "policy.cedar", text: payload.text }])
          const checked =
            diagnostics.length === 0 ? yield* Effect.either(authorizer.validate(payload.text)) : undefined
          if (diagnostics.length > 0 || checked?._tag === "Left") {
            const message =
              diagnostics.length > 0
                ? diagnostics.slice(0, 20).map(formatDiagnostic).join("\n")
                : "policy set rejected by the authoriser"
            return yield* new BadRequest({ code: "E_POLICY_INVALID", message })
          }
          const row = yield* sets
            .create({ tenant: caller.tenant, text: payload.text, createdBy: caller.user })
            .pipe(Effect.mapError(storeDown))
          yield* recordAdmin({
            tenant: caller.tenant,
            user: caller.user,
            session: null,
            action: "PolicyUpload",
            resource: `${caller.tenant}/PolicySet/${row.version}`,
            decision: "allow",
            errorCode: null,
            reason: `stored version ${row.version} sha256 ${row.sha256.slice(0, 16)}`,
            policyVersion: authorizer.versionOf(caller.tenant)
          }).pipe(Effect.mapError(auditDown))
          return versionView(row, yield* activeVersion(caller.tenant))
        })
      )
      .handle("versions", () =>
        Effect.gen(function* () {
          const caller = yield* requireRole("policy-admin")
          const rows = yield* sets.list(caller.tenant).pipe(Effect.mapError(storeDown))
          const active = yield* activeVersion(caller.tenant)
          return rows.map((r) => versionView(r, active))
        })
      )
      .handle("activate", ({ path }) =>
        Effect.gen(function* () {
          const caller = yield* requireRole("policy-admin")
          const row = Option.getOrUndefined(
            yield* sets.get(caller.tenant, path.version).pipe(Effect.mapError(storeDown))
          )
          if (row === undefined) {
            return yield* new NotFound({
              code: "E_NOT_FOUND",
              resource: "policy version",
              id: `${path.version}`
            })
          }
          const set = { tenant: caller.tenant, version: row.version, text: row.text }
          const previous = authorizer.versionOf(caller.tenant)
          const version = yield* activation.withPermits(1)(
            Effect.gen(function* () {
              yield* authorizer
                .validate(row.text)
                .pipe(
                  Effect.mapError(
                    () => new BadRequest({ code: "E_POLICY_INVALID", message: "version no longer validates" })
                  )
                )
              yield* sets
                .activate({ tenant: caller.tenant, version: row.version, activatedBy: caller.user })
                .pipe(Effect.mapError(storeDown))
              return yield* authorizer
                .activate(set)
                .pipe(
                  Effect.mapError(
                    () => new BadRequest({ code: "E_POLICY_INVALID", message: "activation failed" })
                  )
                )
            })
          )
          yield* recordAdmin({
            tenant: caller.tenant,
            user: caller.user,
            session: null,
            action: "PolicyActivate",
            resource: `${caller.tenant}/PolicySet/${row.version}`,
            decision: "allow",
            errorCode: null,
            reason: `activated ${version} (was ${previous})`,
            policyVersion: version
          }).pipe(Effect.mapError(auditDown))
          const active = yield* sets.active(caller.tenant).pipe(Effect.mapError(storeDown))
          const view: ActivePolicyView = {
            tenant: caller.tenant,
            version: row.version,
            policyVersion: version,
            activatedAt: Option.match(active, { onNone: () => Date.now(), onSome: (a) => a.activatedAt }),
            activatedBy: caller.user
          }
          return view
        })
      )
      .handle("active", () =>
        Effect.gen(function* () {
          const caller = yield* requireRole("policy-admin")
          const active = Option.getOrUndefined(
            yield* sets.active(caller.tenant).pipe(Effect.mapError(storeDown))
          )
          if (active === undefined) {
            return yield* new NotFound({ code: "E_NOT_FOUND", resource: "active policy", id: caller.tenant })
          }
          const view: ActivePolicyView = {
            tenant: caller.tenant,
            version: active.version,
            policyVersion: authorizer.versionOf(caller.tenant),
            activatedAt: active.activatedAt,
            activatedBy: active.activatedBy
          }
          return view
        })
      )
      .handle("approvals", ({ urlParams }) =>
        Effect.gen(function* () {
          const caller = yield* requireRole("approver")
          const rows = yield* authorizer
            .approvals()
            .list(caller.tenant, urlParams.status)
            .pipe(Effect.mapError(storeDown))
          return rows.map((a) => approvalView(a))
        })
      )
      .handle("approval", ({ path }) =>
        Effect.gen(function* () {
          const caller = yield* requireRole("approver")
          const found = yield* authorizer
            .approvals()
            .get(caller.tenant, path.approvalId)
            .pipe(Effect.mapError(storeDown))
          if (found === undefined) return yield* approvalNotFound(path.approvalId)
          return approvalView(found)
        })
      )
      .handle("approve", ({ path }) => decideApproval(path.approvalId, "approved"))
      .handle("reject", ({ path }) => decideApproval(path.approvalId, "rejected"))
  })
).pipe(Layer.provide(Layer.merge(PolicySets.layer, Approvals.layer)))
