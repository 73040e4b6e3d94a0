/**
 * Typed errors of the control-plane store. Each carries a stable `code` and a `reason`; messages never
 * carry tokens, keys or tenant data.
 *
 * Raw `SqlError`s from `@effect/sql` propagate as-is from the table services (except `AuditLog`, which
 * maps them to `AuditUnavailableError` so callers fail closed).
 *
 * @module
 */
import { Schema } from "effect"

/**
 * A stored row or a value to store could not be encoded / decoded (`E_STORE`), e.g. a task `input`
 * that is not JSON-serialisable, or a row that no longer matches its schema.
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  code: Schema.Literal("E_STORE"),
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.code}: ${this.reason}`
  }
}

/**
 * The audit log could not be read or appended to (`E_AUDIT_UNAVAILABLE`). Side-effecting actions must
 * not go ahead when an append fails (threat AT-03).
 */
export class AuditUnavailableError extends Schema.TaggedError<AuditUnavailableError>()(
  "AuditUnavailableError",
  {
    code: Schema.Literal("E_AUDIT_UNAVAILABLE"),
    reason: Schema.String
  }
) {
  override get message(): string {
    return `${this.code}: ${this.reason}`
  }
}

/**
 * The audit log failed its integrity check (`E_AUDIT_CHAIN`, threat AT-01): `seq` is the first bad
 * record, and `reason` says how (`hash`: edited; `link`: chain broken; `gap`: a `seq` missing;
 * `truncated`: the log ends before a signed checkpoint; `checkpoint_mismatch`: history rewritten under a
 * checkpoint; `checkpoint_invalid`: a forged or damaged checkpoint). See `AuditIntegrity`.
 */
export class AuditChainError extends Schema.TaggedError<AuditChainError>()("AuditChainError", {
  code: Schema.Literal("E_AUDIT_CHAIN"),
  reason: Schema.Literal("hash", "link", "gap", "truncated", "checkpoint_mismatch", "checkpoint_invalid"),
  seq: Schema.Int
}) {
  override get message(): string {
    return `${this.code}: ${this.reason} at seq ${this.seq}`
  }
}
