/**
 * `@cordon/identity`: workload identities (SPIFFE IDs), per-tenant signing keys, task tokens,
 * token exchange, delegation-chain verification and revocation.
 *
 * @module
 */
export {
  Actor,
  actorEquals,
  AgentUri,
  DEFAULT_ISSUER_BASE,
  decodeTaskClaims,
  EpochSeconds,
  IntentName,
  isSortedUnique,
  normalizeScopes,
  Scope,
  Scopes,
  SessionId,
  TaskClaims,
  TaskId,
  type TaskTokenHeader,
  TenantId,
  TOKEN_ALG,
  TOKEN_TYPE,
  TokenHash,
  TokenId,
  tenantIssuer,
  tokenHash,
  UserId
} from "./Claims.js"
export { type Jwks, KeyRing, type KeyRingService, type SigningKey } from "./KeyRing.js"
export { RevocationList, type RevocationListService, type RevocationReason } from "./RevocationList.js"
export {
  agentSpiffeId,
  InvalidSpiffeId,
  InvalidSpiffeIdReason,
  isValidName,
  isValidTenantId,
  isValidTrustDomain,
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_LENGTH,
  makeAgentSpiffeId,
  parseSpiffeId,
  SpiffeId
} from "./SpiffeId.js"
export {
  AudienceMismatch,
  DelegationChainError,
  ScopeEscalation,
  TenantMismatch,
  type TokenError,
  TokenExpired,
  TokenInvalid,
  TokenNotYetValid,
  TokenPolicyError,
  TokenRevoked
} from "./TokenError.js"
export {
  type ExchangeRequest,
  type MintedToken,
  type MintRootRequest,
  TokenService,
  type TokenServiceOptions,
  type TokenServiceShape
} from "./TokenService.js"
export {
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  MAX_TOKEN_LENGTH,
  type VerifiedChain,
  type VerifyOptions,
  verifyChain
} from "./Verifier.js"
