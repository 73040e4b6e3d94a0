/**
 * The platform policy set (Cedar policy language, validated against `CedarSchema` in strict
 * mode). Every policy carries an `@id("...")` annotation; that id is what decisions report as a
 * determining policy. Tenant policies may add `permit`s and `forbid`s, but in Cedar a satisfied
 * `forbid` always wins, so these platform `forbid`s apply whatever a tenant adds.
 *
 * @see https://docs.cedarpolicy.com/policies/syntax-policy.html
 * @module
 */
import { CedarActions } from "./CedarSchema.js"
import type { DenyCode } from "./PolicyRequest.js"

/** The `@id` of each platform policy. Ids starting with `platform.` are reserved for this set. */
export const PlatformPolicyId = {
  /** `permit` every agent action when the principal belongs to the task's tenant. */
  baseline: "platform.baseline",
  /** `permit` a user to start tasks and schedule jobs in its own tenant. */
  userBaseline: "platform.user-baseline",
  /** `permit` a user holding the `approver` role to decide approvals of its own tenant. */
  approver: "platform.approver",
  /** `forbid` when the context tenant or the resource's tenant differs from the principal's. */
  crossTenant: "platform.cross-tenant",
  /** `forbid` anything a principal of a suspended tenant asks for. */
  suspended: "platform.tenant-suspended",
  /** `forbid` an action (other than `Approve`) the intent does not list in `actions`. */
  intentAction: "platform.intent-action",
  /** `forbid` `InvokeTool` for a tool the intent does not allow. */
  intentTool: "platform.intent-tool",
  /** `forbid` `StartTask` / `Handoff` when the principal or the target agent is not in the intent. */
  intentAgent: "platform.intent-agent",
  /** `forbid` `Handoff` to an agent not in the principal's `handoffs`. */
  handoffGraph: "platform.handoff-graph",
  /** `forbid` any action when the delegation depth exceeds {@link MaxDepth}. */
  depth: "platform.depth",
  /**
   * `forbid` `InvokeTool` of a `risk == "high"` tool when `context.tainted` (the arguments carry
   * fragments of untrusted retrieved content; threat MC-03). Deny code `E_POLICY_DENY`, rule
   * {@link TaintedSourceRule}.
   */
  taintedHighRisk: "platform.tainted-high-risk"
} as const

/**
 * The rule name a deny by `platform.tainted-high-risk` is reported under (audit reason and the
 * agent's refusal): untrusted content may inform text but may not alone justify a high-risk call.
 */
export const TaintedSourceRule = "tainted_source"

/** The `@id`s of the platform `forbid`s (every one of them applies whatever tenants add). */
export const PlatformForbidIds: ReadonlyArray<string> = [
  PlatformPolicyId.crossTenant,
  PlatformPolicyId.suspended,
  PlatformPolicyId.intentAction,
  PlatformPolicyId.intentTool,
  PlatformPolicyId.intentAgent,
  PlatformPolicyId.handoffGraph,
  PlatformPolicyId.depth,
  PlatformPolicyId.taintedHighRisk
]

/** The `@id` prefix reserved for platform policies. */
export const PlatformIdPrefix = "platform."

/** Largest delegation depth (`context.depth`, root task = 0) any action is allowed at. */
export const MaxDepth = 8

/** Deny code of each platform `forbid`, in precedence order when several are satisfied. */
const denyCodes: ReadonlyArray<readonly [string, DenyCode]> = [
  [PlatformPolicyId.suspended, "E_TENANT_SUSPENDED"],
  [PlatformPolicyId.crossTenant, "E_TENANT_MISMATCH"],
  [PlatformPolicyId.intentAction, "E_INTENT_MISMATCH"],
  [PlatformPolicyId.intentTool, "E_TOOL_NOT_ALLOWED"],
  [PlatformPolicyId.handoffGraph, "E_HANDOFF_DENIED"],
  [PlatformPolicyId.intentAgent, "E_POLICY_DENY"],
  [PlatformPolicyId.depth, "E_POLICY_DENY"],
  [PlatformPolicyId.taintedHighRisk, "E_POLICY_DENY"]
]

/**
 * The deny code for a deny determined by `forbids` (the satisfied `forbid` `@id`s), by precedence:
 * `platform.tenant-suspended` → `E_TENANT_SUSPENDED`, `platform.cross-tenant` → `E_TENANT_MISMATCH`,
 * `platform.intent-action` → `E_INTENT_MISMATCH`, `platform.intent-tool` → `E_TOOL_NOT_ALLOWED`,
 * `platform.handoff-graph` → `E_HANDOFF_DENIED`, `platform.intent-agent`, `platform.depth` and
 * `platform.tainted-high-risk` → `E_POLICY_DENY` (an approval cannot lift them). Otherwise, when every satisfied `forbid` is in
 * `approvalIds` (annotated `@approval("required")`) → `E_APPROVAL_REQUIRED`; anything else, or no
 * `forbid` at all (no `permit` matched), → `E_POLICY_DENY`.
 */
export const denyCodeFor = (
  forbids: ReadonlyArray<string>,
  approvalIds: ReadonlySet<string> = new Set()
): DenyCode => {
  const platform = denyCodes.find(([id]) => forbids.includes(id))?.[1]
  if (platform !== undefined) return platform
  if (forbids.length > 0 && forbids.every((id) => approvalIds.has(id))) return "E_APPROVAL_REQUIRED"
  return "E_POLICY_DENY"
}

const action = (name: string) => `Cordon::Action::"${name}"`

/** Every action but `Approve` must be listed in the intent (a human decision is not an agent action). */
const intentActionCondition = CedarActions.filter((a) => a !== "Approve")
  .map((a) => `(action == ${action(a)} && !context.intent.actions.contains("${a}"))`)
  .join(" ||\n  ")

/** The platform policy set text. */
export const PlatformPolicies: string = `@id("${PlatformPolicyId.baseline}")
permit (
  principal is Cordon::Agent,
  action in [
${CedarActions.filter((a) => a !== "Approve")
  .map((a) => `    ${action(a)}`)
  .join(",\n")}
  ],
  resource
)
when { principal.tenant == context.tenant };

@id("${PlatformPolicyId.userBaseline}")
permit (
  principal is Cordon::User,
  action in [${action("StartTask")}, ${action("ScheduleJob")}],
  resource
)
when { principal.tenant == context.tenant };

@id("${PlatformPolicyId.approver}")
permit (principal is Cordon::User, action == ${action("Approve")}, resource is Cordon::Approval)
when { principal.tenant == context.tenant && principal.roles.contains("approver") };

@id("${PlatformPolicyId.crossTenant}")
forbid (principal, action, resource)
when {
  context.tenant != principal.tenant ||
  (resource has tenant && resource.tenant != principal.tenant)
};

@id("${PlatformPolicyId.suspended}")
forbid (principal, action, resource)
when { principal.owner.suspended };

@id("${PlatformPolicyId.intentAction}")
forbid (principal, action, resource)
when {
  ${intentActionCondition}
};

@id("${PlatformPolicyId.intentTool}")
forbid (principal, action == ${action("InvokeTool")}, resource is Cordon::Tool)
unless { context.intent.tools.contains(resource.name) };

@id("${PlatformPolicyId.intentAgent}")
forbid (
  principal,
  action in [${action("StartTask")}, ${action("Handoff")}],
  resource
)
when {
  (principal is Cordon::Agent && !context.intent.agents.contains(principal.name)) ||
  (resource is Cordon::Agent && !context.intent.agents.contains(resource.name))
};

@id("${PlatformPolicyId.handoffGraph}")
forbid (principal, action == ${action("Handoff")}, resource is Cordon::Agent)
unless { principal.handoffs.contains(resource.name) };

@id("${PlatformPolicyId.depth}")
forbid (principal, action, resource)
when { context.depth > ${MaxDepth} };

@id("${PlatformPolicyId.taintedHighRisk}")
forbid (principal, action == ${action("InvokeTool")}, resource is Cordon::Tool)
when { context.tainted && resource.risk == "high" };
`
