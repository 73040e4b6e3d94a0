/** Request and response bodies of the Cordon HTTP API (shared by server, CLI and console). */
import { Schema } from "effect"

const Id = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/), Schema.maxLength(63))
const Name = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9.-]{0,127}$/))

export const CreateSession = Schema.Struct({
  /** Session lifetime in seconds (60 to 86,400; default from server config). */
  ttlSeconds: Schema.optional(Schema.Int.pipe(Schema.between(60, 86_400)))
})

export const SessionView = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  user: Schema.String,
  status: Schema.Literal("open", "ended"),
  createdAt: Schema.Number,
  expiresAt: Schema.Number,
  endedAt: Schema.NullOr(Schema.Number)
})
export type SessionView = typeof SessionView.Type

export const SubmitTask = Schema.Struct({
  session: Id,
  agent: Name,
  intent: Name,
  /** The root agent's input (JSON, at most 256 KB once encoded). */
  input: Schema.Unknown,
  /** Wait for the task to finish before answering (up to the task deadline). */
  wait: Schema.optional(Schema.Boolean)
})
export type SubmitTask = typeof SubmitTask.Type

export const TaskView = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  agent: Schema.String,
  intent: Schema.String,
  status: Schema.Literal("queued", "running", "succeeded", "failed", "cancelled", "dead_lettered"),
  /** Times the task was started (a worker crash may send an idempotent agent's task back to the queue). */
  attempts: Schema.Int,
  output: Schema.NullOr(Schema.Unknown),
  error: Schema.NullOr(Schema.Struct({ code: Schema.String, message: Schema.String })),
  createdAt: Schema.Number,
  endedAt: Schema.NullOr(Schema.Number)
})
export type TaskView = typeof TaskView.Type

export const TraceEventView = Schema.Struct({
  spanId: Schema.String,
  parentSpanId: Schema.NullOr(Schema.String),
  kind: Schema.String,
  name: Schema.String,
  status: Schema.String,
  attrs: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  startMs: Schema.Number,
  endMs: Schema.NullOr(Schema.Number)
})
export type TraceEventView = typeof TraceEventView.Type

export const TraceView = Schema.Struct({ task: TaskView, events: Schema.Array(TraceEventView) })
export type TraceView = typeof TraceView.Type

/** What to revoke among the caller's tenant's credentials; at least one selector, or `all: true`. */
export const RevokeRequest = Schema.Struct({
  jti: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(64))),
  task: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(128))),
  session: Schema.optional(Id),
  agent: Schema.optional(Name),
  /** Revoke every credential of the tenant (incident response). */
  all: Schema.optional(Schema.Literal(true))
})
export type RevokeRequest = typeof RevokeRequest.Type

export const RevokeResult = Schema.Struct({ revoked: Schema.Int })

/** A tenant's published verification keys (RFC 7517 JWK Set; public Ed25519 keys only). */
export const JwksView = Schema.Struct({
  keys: Schema.Array(
    Schema.Struct({
      kty: Schema.String,
      crv: Schema.String,
      x: Schema.String,
      kid: Schema.String,
      alg: Schema.optional(Schema.String),
      use: Schema.optional(Schema.String)
    })
  )
})
export type JwksView = typeof JwksView.Type

/** Body of `POST /v1/admin/tenants/{tenantId}/suspend`: `purge` also deletes the tenant's data (offboarding). */
export const SuspendTenant = Schema.Struct({ purge: Schema.optional(Schema.Boolean) })

/** What a tenant suspension did. */
export const SuspensionView = Schema.Struct({
  tenant: Schema.String,
  cancelledTasks: Schema.Int,
  cancelledJobs: Schema.Int,
  revokedCredentials: Schema.Int,
  endedSessions: Schema.Int
})
export type SuspensionView = typeof SuspensionView.Type

/** The task ledger: `submitted = queued + running + succeeded + failed + cancelled + deadLettered`. */
export const LedgerView = Schema.Struct({
  submitted: Schema.Int,
  queued: Schema.Int,
  running: Schema.Int,
  succeeded: Schema.Int,
  failed: Schema.Int,
  cancelled: Schema.Int,
  deadLettered: Schema.Int
})
