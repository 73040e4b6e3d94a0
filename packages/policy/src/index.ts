/**
 * `@cordon/policy`: the Cedar schema, the platform policy set, the `Authorizer` service (platform +
 * per-tenant active sets), approval bindings and policy-file validation and tests.
 *
 * @module
 */
export {
  type Approval,
  type ApprovalAction,
  type ApprovalLedger,
  ApprovalStatus,
  ApprovalUnavailable,
  actionHash,
  canonicalAction,
  checkConsume,
  type ConsumeRefusal,
  DefaultApprovalTtlMs,
  makeMemoryLedger,
  newApprovalId,
  pendingApproval
} from "./ApprovalLedger.js"
export {
  Authorizer,
  type AuthorizerOptions,
  type AuthorizerShape,
  policyVersionOf,
  type TenantPolicySet,
  type TenantStatus
} from "./Authorizer.js"
export { CedarActions, CedarNamespace, CedarSchema, type RecordType, RecordTypes } from "./CedarSchema.js"
export { decisionToError, enforce, PolicyConfigError, PolicyDenied } from "./Errors.js"
export {
  denyCodeFor,
  MaxDepth,
  PlatformForbidIds,
  PlatformIdPrefix,
  PlatformPolicies,
  PlatformPolicyId,
  TaintedSourceRule
} from "./PlatformPolicies.js"
export {
  AgentResource,
  ApprovalResource,
  DefaultIntentActions,
  DenyCode,
  PolicyAction,
  PolicyArgs,
  PolicyContext,
  PolicyDecision,
  PolicyIntent,
  PolicyPrincipal,
  PolicyRequest,
  type PolicyRequestInput,
  PolicyResource,
  RecordResource,
  SessionResource,
  ToolResource,
  ToolRisk,
  UserPrincipal
} from "./PolicyRequest.js"
export {
  formatResults,
  PolicyTestCase,
  PolicyTestFile,
  type PolicyTestResult,
  runPolicyTests
} from "./PolicyTests.js"
export {
  formatDiagnostic,
  type PolicyDiagnostic,
  type PolicyFile,
  validatePolicyFiles
} from "./PolicyValidation.js"
