import * as Schema from "effect/Schema"

/**
 * Errors the orchestrator returns to callers. Each has a stable `code`; messages never carry tokens, keys
 * or another tenant's data. The HTTP status of each code is in `@cordon/api`'s error table.
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  code: Schema.Literal("E_NOT_FOUND"),
  resource: Schema.Literal("task", "session", "tenant"),
  id: Schema.String
}) {}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  code: Schema.Literal(
    "E_UNKNOWN_AGENT",
    "E_UNKNOWN_INTENT",
    "E_INTENT_MISMATCH",
    "E_BAD_INPUT",
    "E_INVALID_IDENTIFIER"
  ),
  reason: Schema.String
}) {}

export class SessionClosed extends Schema.TaggedError<SessionClosed>()("SessionClosed", {
  code: Schema.Literal("E_SESSION_CLOSED"),
  session: Schema.String
}) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  code: Schema.String,
  reason: Schema.String
}) {}

export class WorkerUnavailable extends Schema.TaggedError<WorkerUnavailable>()("WorkerUnavailable", {
  code: Schema.Literal("E_WORKER_UNAVAILABLE"),
  reason: Schema.String
}) {}

export class TenantSuspended extends Schema.TaggedError<TenantSuspended>()("TenantSuspended", {
  code: Schema.Literal("E_TENANT_SUSPENDED"),
  tenant: Schema.String
}) {}

/** A per-tenant limit was reached; `reason` names it (`queue`, `jobs`, `calls`, `spawn`, ...). */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  code: Schema.Literal("E_QUOTA_EXCEEDED"),
  reason: Schema.String
}) {}
