/**
 * `@cordon/policy`: the Cedar schema, the platform policy set and the `Authorizer` service.
 *
 * @module
 */
export {
  Authorizer,
  type AuthorizerOptions,
  type AuthorizerShape,
  policyVersionOf
} from "./Authorizer.js"
export { CedarNamespace, CedarSchema, type RecordType, RecordTypes } from "./CedarSchema.js"
export { decisionToError, enforce, PolicyConfigError, PolicyDenied } from "./Errors.js"
export {
  denyCodeFor,
  MaxDepth,
  PlatformIdPrefix,
  PlatformPolicies,
  PlatformPolicyId
} from "./PlatformPolicies.js"
export {
  AgentResource,
  DenyCode,
  PolicyAction,
  PolicyContext,
  PolicyDecision,
  PolicyIntent,
  PolicyPrincipal,
  PolicyRequest,
  PolicyResource,
  RecordResource,
  SessionResource,
  ToolResource
} from "./PolicyRequest.js"
