/**
 * Operator endpoints (`/v1/admin/...`): tenant suspension and offboarding, and the task ledger. They
 * need `Authorization: Bearer <operator token>` (a platform credential, not a tenant caller token).
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Schema } from "effect"
import { Unauthenticated } from "./Errors.js"
import { LedgerView, SuspendTenant, SuspensionView } from "./Model.js"

/** The authenticated operator (provided by {@link OperatorAuthentication}). */
export class Operator extends Context.Tag("@cordon/api/Operator")<Operator, { readonly id: string }>() {}

export class OperatorAuthentication extends HttpApiMiddleware.Tag<OperatorAuthentication>()(
  "OperatorAuthentication",
  { failure: Unauthenticated, provides: Operator, security: { bearer: HttpApiSecurity.bearer } }
) {}

const TenantId = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/))

export class AdminGroup extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.post("suspendTenant", "/v1/admin/tenants/:tenantId/suspend")
      .setPath(Schema.Struct({ tenantId: TenantId }))
      .setPayload(SuspendTenant)
      .addSuccess(SuspensionView)
  )
  .add(
    HttpApiEndpoint.post("resumeTenant", "/v1/admin/tenants/:tenantId/resume")
      .setPath(Schema.Struct({ tenantId: TenantId }))
      .addSuccess(Schema.Struct({ tenant: Schema.String, status: Schema.Literal("active") }))
  )
  .add(
    HttpApiEndpoint.get("ledger", "/v1/admin/ledger")
      .setUrlParams(Schema.Struct({ tenant: Schema.optional(TenantId) }))
      .addSuccess(LedgerView)
  )
  .middleware(OperatorAuthentication) {}
