/**
 * Domain row types of the control-plane database, as `effect/Schema` definitions.
 *
 * Times are epoch milliseconds (integers) except `Credential.exp`, which is epoch seconds like the JWT
 * `exp` claim (RFC 7519 §4.1.4). Every tenant-owned row carries its `tenant`.
 *
 * @module
 */
import { Schema } from "effect"

/** Epoch milliseconds, a non-negative integer. */
export const EpochMillis = Schema.Int.pipe(Schema.nonNegative())

/** Epoch seconds, a non-negative integer (JWT `exp` / `iat` unit). */
export const EpochSeconds = Schema.Int.pipe(Schema.nonNegative())

/** Lifecycle of a tenant: a suspended tenant keeps its data but may not start work. */
export const TenantStatus = Schema.Literal("active", "suspended")
export type TenantStatus = typeof TenantStatus.Type

/** A tenant (customer). `id` is the tenant slug used in SPIFFE IDs and resource names. */
export const Tenant = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: TenantStatus,
  createdAt: EpochMillis
})
export type Tenant = typeof Tenant.Type

/** Lifecycle of a session. */
export const SessionStatus = Schema.Literal("open", "ended")
export type SessionStatus = typeof SessionStatus.Type

/** An end-user session, bound to one tenant and one user. */
export const Session = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  userId: Schema.String,
  status: SessionStatus,
  createdAt: EpochMillis,
  expiresAt: EpochMillis,
  endedAt: Schema.NullOr(EpochMillis)
})
export type Session = typeof Session.Type

/**
 * Lifecycle of a task: `queued → running → succeeded | failed | cancelled | dead_lettered`, with
 * `running → queued` when a worker crash sends an idempotent task back for another attempt. Terminal
 * states are final.
 */
export const TaskStatus = Schema.Literal(
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "dead_lettered"
)
export type TaskStatus = typeof TaskStatus.Type

/** A task: one unit of agent work inside a session. `input` / `output` are JSON values. */
export const Task = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  agent: Schema.String,
  intent: Schema.String,
  input: Schema.Unknown,
  status: TaskStatus,
  output: Schema.Unknown,
  errorCode: Schema.NullOr(Schema.String),
  errorMessage: Schema.NullOr(Schema.String),
  /** Times the task was started (1 on its first run). */
  attempts: Schema.NonNegativeInt,
  /** Worker crashes the task was running in (the poison-pill count). */
  crashes: Schema.NonNegativeInt,
  /** The background job that created the task, or `null` for a task submitted through the API. */
  job: Schema.NullOr(Schema.String),
  createdAt: EpochMillis,
  startedAt: Schema.NullOr(EpochMillis),
  endedAt: Schema.NullOr(EpochMillis)
})
export type Task = typeof Task.Type

/** How a task ended; see `Tasks.complete`. */
export const TaskOutcome = Schema.Union(
  Schema.Struct({ status: Schema.Literal("succeeded"), output: Schema.Unknown }),
  Schema.Struct({
    status: Schema.Literal("failed", "cancelled", "dead_lettered"),
    errorCode: Schema.String,
    errorMessage: Schema.String
  })
)
export type TaskOutcome = typeof TaskOutcome.Type

/**
 * Task counts (the G-LOSS ledger): `submitted` is every task ever created, the others count tasks by
 * current status, so `submitted = queued + running + succeeded + failed + cancelled + deadLettered`
 * (queued + running = in flight).
 */
export const TaskLedger = Schema.Struct({
  submitted: Schema.Int,
  queued: Schema.Int,
  running: Schema.Int,
  succeeded: Schema.Int,
  failed: Schema.Int,
  cancelled: Schema.Int,
  deadLettered: Schema.Int
})
export type TaskLedger = typeof TaskLedger.Type

/** A minted task credential (identified by its JWT `jti`; the token itself is never stored). */
export const Credential = Schema.Struct({
  jti: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  task: Schema.String,
  agent: Schema.String,
  exp: EpochSeconds,
  mintedAt: EpochMillis,
  revokedAt: Schema.NullOr(EpochMillis),
  revokeReason: Schema.NullOr(Schema.String)
})
export type Credential = typeof Credential.Type

/** A policy decision outcome. */
export const Decision = Schema.Literal("allow", "deny")
export type Decision = typeof Decision.Type

/** 64 lower-case hex characters (a SHA-256 digest). */
export const Sha256Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))

/**
 * One audit entry, as given to `AuditLog.append`: the G-AUD fields of the threat matrix (THREATS.md §0)
 * minus the chain fields. `ts` is epoch ms; `resource` is tenant-qualified (`"globex/Tool/outbox.draft"`);
 * `actorChainHash` and `jtiHash` are digests — a raw token never goes here.
 */
export const AuditEntry = Schema.Struct({
  ts: EpochMillis,
  tenant: Schema.String,
  session: Schema.NullOr(Schema.String),
  workload: Schema.String,
  intent: Schema.String,
  actorChainHash: Schema.String,
  chainDepth: Schema.Int.pipe(Schema.nonNegative()),
  action: Schema.String,
  resource: Schema.String,
  decision: Decision,
  errorCode: Schema.NullOr(Schema.String),
  reason: Schema.String,
  policyVersion: Schema.String,
  jtiHash: Schema.String
})
export type AuditEntry = typeof AuditEntry.Type

/** A stored audit record: the entry plus its place in the hash chain (`seq` starts at 1). */
export const AuditRecord = Schema.Struct({
  seq: Schema.Int.pipe(Schema.positive()),
  ...AuditEntry.fields,
  prevHash: Sha256Hex,
  hash: Sha256Hex
})
export type AuditRecord = typeof AuditRecord.Type

/** Kind of a delegation-trace span. */
export const TraceKind = Schema.Literal(
  "task",
  "agent",
  "handoff",
  "tool",
  "policy",
  "revocation",
  "cache",
  "error"
)
export type TraceKind = typeof TraceKind.Type

/** Status of a delegation-trace span. */
export const TraceStatus = Schema.Literal("ok", "error", "deny", "running")
export type TraceStatus = typeof TraceStatus.Type

/**
 * One span of a delegation trace. `txn` is the root task id; `startMs` / `endMs` are epoch ms
 * (`endMs` is `null` while the span runs). `attrs` is a JSON object and never holds a token.
 */
export const TraceEvent = Schema.Struct({
  txn: Schema.String,
  tenant: Schema.String,
  spanId: Schema.String,
  parentSpanId: Schema.NullOr(Schema.String),
  kind: TraceKind,
  name: Schema.String,
  status: TraceStatus,
  attrs: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  startMs: EpochMillis,
  endMs: Schema.NullOr(EpochMillis)
})
export type TraceEvent = typeof TraceEvent.Type
