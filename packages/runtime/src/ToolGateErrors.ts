/**
 * Refusals of the tool gate (threat matrix §0 taxonomy). Each has a stable `code`; `reason` is from a
 * closed set and `detail` is a short, token-free explanation that never quotes another tenant's data
 * (claimed identity values are hashed). An agent receives them as `Denied({ code, reason })`.
 *
 * @module
 */
import * as Schema from "effect/Schema"

/** A literal field filled in by the constructor. */
const fixed = <C extends string>(c: C) =>
  Schema.Literal(c).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => c)
  )

/**
 * Tool arguments carry identity (a key such as `tenant`, `userId`, `role`, `session`, `sub`, at any depth,
 * case-insensitive) that the tool did not declare in `identityFields`: identity comes from the verified
 * token only (threat IP-02). `field` is the key path (`args.filter.tenant`); the claimed value is never
 * stored, only its hash in `detail`.
 */
export class IdentityAssertionError extends Schema.TaggedError<IdentityAssertionError>()(
  "IdentityAssertionError",
  {
    code: fixed("E_IDENTITY_ASSERTION"),
    reason: fixed("identity_field"),
    field: Schema.String,
    detail: Schema.String
  }
) {}

/**
 * A tool call the gate refuses for its arguments (`argument`: outside the path jail, a host not on the
 * allow-list or internal, a value not on the allow-list, over the size cap, not JSON, no input schema
 * declared, not matching the input schema) — threat TM-01.
 */
export class ToolNotAllowedError extends Schema.TaggedError<ToolNotAllowedError>()("ToolNotAllowedError", {
  code: fixed("E_TOOL_NOT_ALLOWED"),
  reason: fixed("argument"),
  detail: Schema.String
}) {}

/**
 * A tool result contains a record owned by another tenant than the caller's token tenant; the whole
 * result is withheld (threat IP-01). `detail` names both tenants, never the record's content.
 */
export class ResultTenantMismatchError extends Schema.TaggedError<ResultTenantMismatchError>()(
  "ResultTenantMismatchError",
  {
    code: fixed("E_TENANT_MISMATCH"),
    reason: fixed("result_record"),
    detail: Schema.String
  }
) {}

/** Any refusal of the tool gate's argument and result checks. */
export type ToolGateError = IdentityAssertionError | ToolNotAllowedError | ResultTenantMismatchError
