/**
 * Tenant policy administration and human approvals (`/v1/policy/...`, `/v1/approvals/...`). The
 * caller's tenant comes from its verified caller token; policy endpoints need the `policy-admin`
 * role, approval endpoints the `approver` role (token claim `roles`), else `Forbidden`
 * (`E_FORBIDDEN_ROLE`).
 *
 * Policy text is validated against the Cedar schema in strict mode on upload (`BadRequest`
 * `E_POLICY_INVALID` with `file:line:column` diagnostics); every upload is kept as the tenant's next
 * version; activating a version (new or old: rollback) swaps the tenant's active set atomically.
 *
 * `CordonApi` adds this group behind the caller-token `Authentication` middleware.
 */
import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { BadRequest, Forbidden, NotFound, Unavailable } from "./Errors.js"

/** Largest accepted policy text, in bytes of UTF-8. */
export const MaxPolicyBytes = 256 * 1024

/** Upload body: the tenant's whole policy set as Cedar text. */
export const UploadPolicy = Schema.Struct({ text: Schema.String.pipe(Schema.maxLength(MaxPolicyBytes)) })

/** A stored policy version. Times in epoch ms; `sha256` of the text (hex). */
export const PolicyVersionView = Schema.Struct({
  tenant: Schema.String,
  version: Schema.Int,
  sha256: Schema.String,
  text: Schema.String,
  createdAt: Schema.Number,
  createdBy: Schema.String,
  active: Schema.Boolean
})
export type PolicyVersionView = typeof PolicyVersionView.Type

/** The tenant's active set: version number and the full version string decisions report. */
export const ActivePolicyView = Schema.Struct({
  tenant: Schema.String,
  version: Schema.Int,
  policyVersion: Schema.String,
  activatedAt: Schema.Number,
  activatedBy: Schema.String
})
export type ActivePolicyView = typeof ActivePolicyView.Type

/**
 * An approval as the approver sees it: the structured action (tool and canonical arguments, agent,
 * session, task), never model prose. Times in epoch ms.
 */
export const ApprovalView = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  task: Schema.String,
  agent: Schema.String,
  tool: Schema.String,
  args: Schema.Unknown,
  actionHash: Schema.String,
  status: Schema.Literal("pending", "approved", "rejected", "used", "expired"),
  createdAt: Schema.Number,
  expiresAt: Schema.Number,
  decidedBy: Schema.NullOr(Schema.String),
  decidedAt: Schema.NullOr(Schema.Number)
})
export type ApprovalView = typeof ApprovalView.Type

const VersionParam = Schema.NumberFromString.pipe(Schema.int(), Schema.positive())
const ApprovalId = Schema.String.pipe(Schema.pattern(/^apr-[0-9a-f]{32}$/))

export class PolicyGroup extends HttpApiGroup.make("policy")
  .add(
    HttpApiEndpoint.post("upload", "/v1/policy/versions")
      .setPayload(UploadPolicy)
      .addSuccess(PolicyVersionView, { status: 201 })
      .addError(BadRequest)
      .addError(Forbidden)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.get("versions", "/v1/policy/versions")
      .addSuccess(Schema.Array(PolicyVersionView))
      .addError(Forbidden)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.post("activate", "/v1/policy/versions/:version/activate")
      .setPath(Schema.Struct({ version: VersionParam }))
      .addSuccess(ActivePolicyView)
      .addError(BadRequest)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.get("active", "/v1/policy/active")
      .addSuccess(ActivePolicyView)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.get("approvals", "/v1/approvals")
      .setUrlParams(
        Schema.Struct({ status: Schema.optional(Schema.Literal("pending", "approved", "rejected", "used")) })
      )
      .addSuccess(Schema.Array(ApprovalView))
      .addError(Forbidden)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.get("approval", "/v1/approvals/:approvalId")
      .setPath(Schema.Struct({ approvalId: ApprovalId }))
      .addSuccess(ApprovalView)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.post("approve", "/v1/approvals/:approvalId/approve")
      .setPath(Schema.Struct({ approvalId: ApprovalId }))
      .addSuccess(ApprovalView)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Unavailable)
  )
  .add(
    HttpApiEndpoint.post("reject", "/v1/approvals/:approvalId/reject")
      .setPath(Schema.Struct({ approvalId: ApprovalId }))
      .addSuccess(ApprovalView)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Unavailable)
  ) {}
