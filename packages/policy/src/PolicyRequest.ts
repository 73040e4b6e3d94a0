/**
 * The shapes that cross the policy decision point: the request the broker asks about and the
 * decision it records. Both are `effect/Schema` definitions so the audit log, the trace store and
 * worker messages can encode them without a second definition.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import { CedarActions, RecordTypes } from "./CedarSchema.js"

const Name = Schema.NonEmptyString
const Names = Schema.Array(Schema.String)

/** The Cordon actions the authoriser decides on (Cedar `Cordon::Action::"<name>"`). */
export const PolicyAction = Schema.Literal(...CedarActions)
export type PolicyAction = typeof PolicyAction.Type

/** The actions an intent allows when a caller does not list them (every agent action). */
export const DefaultIntentActions: ReadonlyArray<PolicyAction> = CedarActions.filter((a) => a !== "Approve")

/**
 * The acting agent, taken from the verified token and the server-side agent registry, never from
 * model output: `tenant` and `agent` (name within the tenant) non-empty, `spiffeId` its workload
 * identity (the Cedar entity id), `handoffs` the agent names it may hand off to. `type` may be
 * omitted (an agent is the default principal).
 */
export const PolicyPrincipal = Schema.Struct({
  type: Schema.optionalWith(Schema.Literal("Agent"), { default: () => "Agent" as const }),
  tenant: Name,
  agent: Name,
  spiffeId: Name,
  handoffs: Names
})
export type PolicyPrincipal = typeof PolicyPrincipal.Type

/** A human user of a tenant (from a verified caller token): `id` and the token's `roles`. */
export const UserPrincipal = Schema.Struct({
  type: Schema.Literal("User"),
  tenant: Name,
  id: Name,
  roles: Names
})
export type UserPrincipal = typeof UserPrincipal.Type

/**
 * How much harm a tool call can do: `"high"` for irreversible or outward-facing effects (sending
 * mail, paying, deleting). A tainted `InvokeTool` of a `"high"` tool is forbidden by
 * `platform.tainted-high-risk` (threat MC-03).
 */
export const ToolRisk = Schema.Literal("low", "high")
export type ToolRisk = typeof ToolRisk.Type

/**
 * A tool, identified by its name within the owning tenant; `risk` as the tool declares it (default
 * `"low"`; the broker always passes the declared value).
 */
export const ToolResource = Schema.Struct({
  type: Schema.Literal("Tool"),
  tenant: Name,
  name: Name,
  risk: Schema.optionalWith(ToolRisk, { default: () => "low" as const })
})

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

/** A pending approval (resource of `Approve`): its id, session and the tool it would allow. */
export const ApprovalResource = Schema.Struct({
  type: Schema.Literal("Approval"),
  tenant: Name,
  id: Name,
  session: Name,
  tool: Name
})

/** A tenant-owned record (one of `RecordTypes`, e.g. `Mailbox`), identified by its id. */
export const RecordResource = Schema.Struct({
  type: Schema.Literal(...RecordTypes),
  tenant: Name,
  id: Name
})

/** The resource acted on; its `tenant` is the tenant that owns it (from the store, not the caller). */
export const PolicyResource = Schema.Union(
  ToolResource,
  AgentResource,
  SessionResource,
  ApprovalResource,
  RecordResource
)
export type PolicyResource = typeof PolicyResource.Type

/**
 * The task's intent as set by the task's creator: `name` (Cedar entity id), the `tools` allowed
 * under it, the `agents` that may take part in it and the `actions` it allows (default:
 * {@link DefaultIntentActions}).
 */
export const PolicyIntent = Schema.Struct({
  name: Name,
  tools: Names,
  agents: Names,
  actions: Schema.optionalWith(Schema.Array(PolicyAction), { default: () => DefaultIntentActions })
})

/**
 * Tool arguments: any JSON value (at most 64 KiB as canonical JSON, checked when converted). An
 * object's members become `context.args` tags; any other value is the tag `value`.
 */
export const PolicyArgs = Schema.Unknown

/**
 * Request context: `tenant` and `session` of the task (token `tnt` / `sid`), its intent (`int`),
 * `depth` the delegation depth (token `dep`, root = 0, integer ≥ 0), `actors` the actor chain
 * (SPIFFE IDs, root first; RFC 8693 `act`), `rootUser` the user who started the task ("" when
 * unknown), `now` the decision time in Unix epoch seconds, `args` the tool arguments (default
 * `{}`), `approved` whether a human approval bound to this exact action was consumed (default
 * false) and `tainted` whether the arguments carry fragments of untrusted retrieved content (default
 * false; set by the runtime's taint tracking, threat MC-03).
 */
export const PolicyContext = Schema.Struct({
  tenant: Name,
  session: Name,
  intent: PolicyIntent,
  depth: Schema.NonNegativeInt,
  actors: Names,
  rootUser: Schema.optionalWith(Schema.String, { default: () => "" }),
  now: Schema.NonNegativeInt,
  args: Schema.optionalWith(PolicyArgs, { default: () => ({}) }),
  approved: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  tainted: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
export type PolicyContext = typeof PolicyContext.Type

/** One authorisation question: may `principal` perform `action` on `resource` in `context`? */
export const PolicyRequest = Schema.Struct({
  principal: Schema.Union(UserPrincipal, PolicyPrincipal),
  action: PolicyAction,
  resource: PolicyResource,
  context: PolicyContext
})
/** A decoded request (every default applied). */
export type PolicyRequest = typeof PolicyRequest.Type
/** What callers pass to `authorize`: defaulted fields may be omitted. */
export type PolicyRequestInput = typeof PolicyRequest.Encoded

/**
 * Stable deny codes.
 *
 * - `E_TENANT_MISMATCH`: `platform.cross-tenant` forbade the request.
 * - `E_TENANT_SUSPENDED`: the principal's tenant is suspended (`platform.tenant-suspended`).
 * - `E_INTENT_MISMATCH`: the action is outside the intent (`platform.intent-action`).
 * - `E_TOOL_NOT_ALLOWED`: `platform.intent-tool` forbade the request (tool outside the intent).
 * - `E_HANDOFF_DENIED`: `platform.handoff-graph` forbade the request.
 * - `E_APPROVAL_REQUIRED`: only `@approval("required")` policies forbade the request.
 * - `E_POLICY_DENY`: any other `forbid` (including `platform.intent-agent`, `platform.depth`,
 *   `platform.tainted-high-risk` and tenant policies), or no `permit` matched.
 * - `E_POLICY_EVALUATION`: the request did not validate against the schema or a policy raised an
 *   evaluation error; the request is denied.
 */
export const DenyCode = Schema.Literal(
  "E_TENANT_MISMATCH",
  "E_TENANT_SUSPENDED",
  "E_INTENT_MISMATCH",
  "E_TOOL_NOT_ALLOWED",
  "E_HANDOFF_DENIED",
  "E_APPROVAL_REQUIRED",
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
 * - `policyVersion`: the policy-set version the decision was made under:
 *   `platform@<16 hex>` or `platform@<16 hex>+tenant@<n>` (the tenant's active version `n`).
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
