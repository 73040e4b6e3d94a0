/**
 * The shapes that cross the policy decision point: the request the broker asks about and the
 * decision it records. Both are `effect/Schema` definitions so the audit log, the trace store and
 * worker messages can encode them without a second definition.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { RecordTypes } from "./CedarSchema.js"

const Name = Schema.NonEmptyString
const Names = Schema.Array(Schema.String)

/** The Cordon actions the authoriser decides on (Cedar `Cordon::Action::"<name>"`). */
export const PolicyAction = Schema.Literal(
  "StartTask",
  "Handoff",
  "InvokeTool",
  "AccessRecord",
  "ReadCache",
  "WriteCache"
)
export type PolicyAction = typeof PolicyAction.Type

/**
 * The acting agent, taken from the verified token and the server-side agent registry, never from
 * model output: `tenant` and `agent` (name within the tenant) non-empty, `spiffeId` its workload
 * identity (the Cedar entity id), `handoffs` the agent names it may hand off to.
 */
export const PolicyPrincipal = Schema.Struct({
  tenant: Name,
  agent: Name,
  spiffeId: Name,
  handoffs: Names
})
export type PolicyPrincipal = typeof PolicyPrincipal.Type

/** A tool, identified by its name within the owning tenant. */
export const ToolResource = Schema.Struct({ type: Schema.Literal("Tool"), tenant: Name, name: Name })

/** An agent as the target of a `Handoff`; same fields as the principal, with `name` for `agent`. */
export const AgentResource = Schema.Struct({
  type: Schema.Literal("Agent"),
  tenant: Name,
  name: Name,
  spiffeId: Name,
  handoffs: Names
})

/** A session, identified by its id. */
export const SessionResource = Schema.Struct({ type: Schema.Literal("Session"), tenant: Name, id: Name })

/** A tenant-owned record (one of `RecordTypes`, e.g. `Mailbox`), identified by its id. */
export const RecordResource = Schema.Struct({
  type: Schema.Literal(...RecordTypes),
  tenant: Name,
  id: Name
})

/** The resource acted on; its `tenant` is the tenant that owns it (from the store, not the caller). */
export const PolicyResource = Schema.Union(ToolResource, AgentResource, SessionResource, RecordResource)
export type PolicyResource = typeof PolicyResource.Type

/**
 * The task's intent as set by the task's creator: `name` (Cedar entity id), the `tools` allowed
 * under it and the `agents` that may take part in it.
 */
export const PolicyIntent = Schema.Struct({ name: Name, tools: Names, agents: Names })

/**
 * Request context: `tenant` and `session` of the task (token `tnt` / `sid`), its intent (`int`),
 * `depth` the delegation depth (token `dep`, root = 0, integer ≥ 0), `actors` the actor chain
 * (SPIFFE IDs, root first; RFC 8693 `act`), `now` the decision time in Unix epoch seconds.
 */
export const PolicyContext = Schema.Struct({
  tenant: Name,
  session: Name,
  intent: PolicyIntent,
  depth: Schema.NonNegativeInt,
  actors: Names,
  now: Schema.NonNegativeInt
})
export type PolicyContext = typeof PolicyContext.Type

/** One authorisation question: may `principal` perform `action` on `resource` in `context`? */
export const PolicyRequest = Schema.Struct({
  principal: PolicyPrincipal,
  action: PolicyAction,
  resource: PolicyResource,
  context: PolicyContext
})
export type PolicyRequest = typeof PolicyRequest.Type

/**
 * Stable deny codes.
 *
 * - `E_TENANT_MISMATCH`: `platform.cross-tenant` forbade the request.
 * - `E_TOOL_NOT_ALLOWED`: `platform.intent-tool` forbade the request (tool outside the intent).
 * - `E_HANDOFF_DENIED`: `platform.handoff-graph` forbade the request.
 * - `E_POLICY_DENY`: any other `forbid` (including `platform.intent-agent`, `platform.depth` and
 *   tenant policies), or no `permit` matched.
 * - `E_POLICY_EVALUATION`: the request did not validate against the schema or a policy raised an
 *   evaluation error; the request is denied.
 */
export const DenyCode = Schema.Literal(
  "E_TENANT_MISMATCH",
  "E_TOOL_NOT_ALLOWED",
  "E_HANDOFF_DENIED",
  "E_POLICY_DENY",
  "E_POLICY_EVALUATION"
)
export type DenyCode = typeof DenyCode.Type

/**
 * The outcome of one request, recorded in the audit log whether it allows or denies.
 *
 * - `code`: `null` when allowed, else one {@link DenyCode}.
 * - `determiningPolicies`: the `@id`s of the policies that determined the decision (the satisfied
 *   `permit`s on allow, the satisfied `forbid`s on deny), sorted; empty when no policy matched or
 *   the request could not be evaluated.
 * - `policyVersion`: the policy-set version the decision was made under.
 * - `errors`: validation and evaluation diagnostics for the broker's audit log (they may quote
 *   request values; do not forward them to tenants). Non-empty only with `E_POLICY_EVALUATION`.
 */
export const PolicyDecision = Schema.Struct({
  decision: Schema.Literal("allow", "deny"),
  code: Schema.NullOr(DenyCode),
  determiningPolicies: Schema.Array(Schema.String),
  policyVersion: Schema.String,
  errors: Schema.Array(Schema.String)
})
export type PolicyDecision = typeof PolicyDecision.Type
