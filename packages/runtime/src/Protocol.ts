/**
 * The typed messages between the broker (main thread) and a tenant worker. Both sides import this module,
 * so they cannot disagree. Every request's failure union includes `WorkerError` (a crashed worker must not
 * surface as a `ParseError`; STACK.md). Structs reject unknown fields on decode (`onExcessProperty: "error"`
 * is set where they are decoded).
 *
 * The dialogue: the broker sends `RunAgent`; the worker streams `AgentEvent`s back. A `Call` event asks the
 * broker for something (authorise a tool call, hand off); the broker answers with a `Reply` request carrying
 * the same `callId`. The worker never names its tenant: the broker knows which worker a message came from.
 */
import { WorkerError } from "@effect/platform/WorkerError"
import * as Schema from "effect/Schema"

const Json = Schema.Unknown

/** A public JWK as published in a tenant's JWKS (Ed25519 only). */
export const PublicJwk = Schema.Struct({
  kty: Schema.Literal("OKP"),
  crv: Schema.Literal("Ed25519"),
  x: Schema.String,
  kid: Schema.String,
  alg: Schema.optionalWith(Schema.String, { exact: true }),
  use: Schema.optionalWith(Schema.String, { exact: true })
})

export const Jwks = Schema.Struct({ keys: Schema.Array(PublicJwk) })
export type Jwks = typeof Jwks.Type

/**
 * A tenant's JWKS as it may cross to a worker: public Ed25519 keys only. Any other field — above all a
 * private `d` — is refused (throws), so a private key can never be handed to a worker by mistake.
 */
export const publicJwks: (jwks: unknown) => Jwks = Schema.decodeUnknownSync(Jwks, {
  onExcessProperty: "error"
})

/** A stable-coded failure crossing the channel (never a token, key or another tenant's data). */
export class RemoteFailure extends Schema.TaggedError<RemoteFailure>()("RemoteFailure", {
  code: Schema.String,
  reason: Schema.String
}) {}

/** Boots a worker for exactly one tenant: its id, its public keys only, its data directory. */
export class InitialMessage extends Schema.TaggedRequest<InitialMessage>()("InitialMessage", {
  failure: Schema.Union(RemoteFailure, WorkerError),
  success: Schema.Void,
  payload: {
    tenant: Schema.String,
    trustDomain: Schema.String,
    issuer: Schema.String,
    jwks: Jwks,
    dataDir: Schema.String,
    maxDepth: Schema.Int,
    clockToleranceSec: Schema.Number,
    revoked: Schema.Array(Schema.String),
    revocationStaleMs: Schema.Int,
    settings: Schema.Record({ key: Schema.String, value: Schema.String })
  }
}) {}

/** Readiness probe: answers once the worker has booted. */
export class Ping extends Schema.TaggedRequest<Ping>()("Ping", {
  failure: WorkerError,
  success: Schema.Literal("pong"),
  payload: {}
}) {}

/**
 * Replaces the worker's verification keys with its tenant's current JWKS (after a rotation or a
 * retirement: a retired compromised key disappears from the worker at once).
 */
export class UpdateKeys extends Schema.TaggedRequest<UpdateKeys>()("UpdateKeys", {
  failure: WorkerError,
  success: Schema.Void,
  payload: { jwks: Jwks }
}) {}

/** Opens (idempotently) a session's cache in the worker. */
export class OpenSession extends Schema.TaggedRequest<OpenSession>()("OpenSession", {
  failure: Schema.Union(RemoteFailure, WorkerError),
  success: Schema.Void,
  payload: { session: Schema.String }
}) {}

/** Ends a session in the worker: closes and deletes its cache file (with `-wal`/`-shm`). Idempotent. */
export class EndSession extends Schema.TaggedRequest<EndSession>()("EndSession", {
  failure: Schema.Union(RemoteFailure, WorkerError),
  success: Schema.Void,
  payload: { session: Schema.String }
}) {}

/**
 * Adds revoked token ids to the worker's local revocation list and marks its view fresh as of the broker's
 * list `version`. Sent at once on every revocation and, with no ids, as a heartbeat.
 */
export class Revoke extends Schema.TaggedRequest<Revoke>()("Revoke", {
  failure: WorkerError,
  success: Schema.Void,
  payload: { jtis: Schema.Array(Schema.String), version: Schema.Int }
}) {}

/** What a running agent asks the broker for. */
export const CallBody = Schema.Union(
  Schema.TaggedStruct("Authorize", {
    tool: Schema.String,
    records: Schema.Array(
      Schema.Struct({ type: Schema.Literal("Mailbox"), tenant: Schema.String, id: Schema.String })
    )
  }),
  Schema.TaggedStruct("Handoff", { agent: Schema.String, input: Json }),
  Schema.TaggedStruct("Note", { message: Schema.String }),
  /** The worker refused a call on its own (defence in depth); the broker audits it. */
  Schema.TaggedStruct("LocalDeny", {
    tool: Schema.String,
    code: Schema.String,
    reason: Schema.String,
    /** The tool span the broker opened when it allowed the call, if it did. */
    spanId: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("ToolDone", {
    spanId: Schema.String,
    ok: Schema.Boolean,
    code: Schema.NullOr(Schema.String),
    durationMs: Schema.Number
  })
)
export type CallBody = typeof CallBody.Type

/** A stream element of `RunAgent`: a call to answer, or the run's output. */
export const AgentEvent = Schema.Union(
  Schema.TaggedStruct("Call", {
    callId: Schema.String,
    /** The caller's token chain, root first; the broker re-verifies it. */
    chain: Schema.Array(Schema.String),
    body: CallBody
  }),
  Schema.TaggedStruct("Output", { output: Json })
)
export type AgentEvent = typeof AgentEvent.Type

/** Runs one agent with its token chain (root first; the leaf is the agent's own token). */
export class RunAgent extends Schema.TaggedRequest<RunAgent>()("RunAgent", {
  failure: Schema.Union(RemoteFailure, WorkerError),
  success: AgentEvent,
  payload: {
    runId: Schema.String,
    agent: Schema.String,
    input: Json,
    chain: Schema.Array(Schema.String)
  }
}) {}

/** The broker's answer to a `Call`. */
export const ReplyBody = Schema.Union(
  Schema.TaggedStruct("Allowed", { spanId: Schema.String }),
  Schema.TaggedStruct("HandoffResult", { output: Json }),
  Schema.TaggedStruct("Ack", {}),
  Schema.TaggedStruct("Refused", { code: Schema.String, reason: Schema.String })
)
export type ReplyBody = typeof ReplyBody.Type

export class Reply extends Schema.TaggedRequest<Reply>()("Reply", {
  failure: WorkerError,
  success: Schema.Void,
  payload: { callId: Schema.String, body: ReplyBody }
}) {}

/** Every request the broker may send a tenant worker. */
export const WorkerRequest = Schema.Union(
  InitialMessage,
  Ping,
  UpdateKeys,
  OpenSession,
  EndSession,
  Revoke,
  RunAgent,
  Reply
)
export type WorkerRequest = typeof WorkerRequest.Type
