/**
 * The platform policy set (Cedar policy language, validated against `CedarSchema` in strict
 * mode). Every policy carries an `@id("...")` annotation; that id is what decisions report as a
 * determining policy. Tenant policies may add `permit`s and `forbid`s, but in Cedar a satisfied
 * `forbid` always wins, so these platform `forbid`s apply whatever a tenant adds.
 *
 * @see https://docs.cedarpolicy.com/policies/syntax-policy.html
 * @module
 */
import type { DenyCode } from "./PolicyRequest.js"

/** The `@id` of each platform policy. Ids starting with `platform.` are reserved for this set. */
export const PlatformPolicyId = {
  /** `permit` every Cordon action when the principal belongs to the task's tenant. */
  baseline: "platform.baseline",
  /** `forbid` when the context tenant or the resource's tenant differs from the principal's. */
  crossTenant: "platform.cross-tenant",
  /** `forbid` `InvokeTool` for a tool the intent does not allow. */
  intentTool: "platform.intent-tool",
  /** `forbid` `StartTask` / `Handoff` when the principal or the target agent is not in the intent. */
  intentAgent: "platform.intent-agent",
  /** `forbid` `Handoff` to an agent not in the principal's `handoffs`. */
  handoffGraph: "platform.handoff-graph",
  /** `forbid` any action when the delegation depth exceeds {@link MaxDepth}. */
  depth: "platform.depth"
} as const

/** The `@id` prefix reserved for platform policies. */
export const PlatformIdPrefix = "platform."

/** Largest delegation depth (`context.depth`, root task = 0) any action is allowed at. */
export const MaxDepth = 8

/** Deny code of each platform `forbid`, in precedence order when several are satisfied. */
const denyCodes: ReadonlyArray<readonly [string, DenyCode]> = [
  [PlatformPolicyId.crossTenant, "E_TENANT_MISMATCH"],
  [PlatformPolicyId.intentTool, "E_TOOL_NOT_ALLOWED"],
  [PlatformPolicyId.handoffGraph, "E_HANDOFF_DENIED"],
  [PlatformPolicyId.intentAgent, "E_POLICY_DENY"],
  [PlatformPolicyId.depth, "E_POLICY_DENY"]
]

/**
 * The deny code for a deny determined by `forbids` (the satisfied `forbid` `@id`s):
 * `platform.cross-tenant` → `E_TENANT_MISMATCH`, `platform.intent-tool` → `E_TOOL_NOT_ALLOWED`,
 * `platform.handoff-graph` → `E_HANDOFF_DENIED`, in that precedence; anything else, or no
 * `forbid` at all (no `permit` matched), → `E_POLICY_DENY`.
 */
export const denyCodeFor = (forbids: ReadonlyArray<string>): DenyCode =>
  denyCodes.find(([id]) => forbids.includes(id))?.[1] ?? "E_POLICY_DENY"

/** The platform policy set text. */
export const PlatformPolicies: string = `@id("${PlatformPolicyId.baseline}")
permit (
  principal is Cordon::Agent,
  action in [
    Cordon::Action::"StartTask",
    Cordon::Action::"Handoff",
    Cordon::Action::"InvokeTool",
    Cordon::Action::"AccessRecord",
    Cordon::Action::"ReadCache",
    Cordon::Action::"WriteCache"
  ],
  resource
)
when { principal.tenant == context.tenant };

@id("${PlatformPolicyId.crossTenant}")
forbid (principal, action, resource)
when {
  context.tenant != principal.tenant ||
  (resource has tenant && resource.tenant != principal.tenant)
};

@id("${PlatformPolicyId.intentTool}")
forbid (principal, action == Cordon::Action::"InvokeTool", resource is Cordon::Tool)
unless { context.intent.tools.contains(resource.name) };

@id("${PlatformPolicyId.intentAgent}")
forbid (
  principal,
  action in [Cordon::Action::"StartTask", Cordon::Action::"Handoff"],
  resource
)
when {
  !context.intent.agents.contains(principal.name) ||
  (resource is Cordon::Agent && !context.intent.agents.contains(resource.name))
};

@id("${PlatformPolicyId.handoffGraph}")
forbid (principal, action == Cordon::Action::"Handoff", resource is Cordon::Agent)
unless { principal.handoffs.contains(resource.name) };

@id("${PlatformPolicyId.depth}")
forbid (principal, action, resource)
when { context.depth > ${MaxDepth} };
`
