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
export {
  CALL_TOKEN_TYPE,
  CallClaims,
  decodeCallClaims,
  isToolAudience,
  ToolAudience,
  toolAudience,
  type VerifyCallOptions,
  verifyCallToken
} from "./CallToken.js"
export { canonicalJson, MAX_JSON_DEPTH, requestBinding } from "./CanonicalJson.js"
export { IdentityConfigError } from "./IdentityConfigError.js"
export {
  type Jwks,
  KeyRing,
  KeyRingError,
  type KeyRingOptions,
  type KeyRingService,
  type KeyStatus,
  type SigningKey
} from "./KeyRing.js"
export { KeyStore, KeyStoreError, type KeyStoreService, type StoredKeyRecord } from "./KeyStore.js"
export { MASTER_KEY_BYTES, MASTER_KEY_CONFIG, MasterKey, type MasterKeyShape } from "./MasterKey.js"
export { ReplayGuard, type ReplayGuardOptions, type ReplayGuardService } from "./ReplayGuard.js"
export {
  RevocationList,
  type RevocationListOptions,
  type RevocationListService,
  type RevocationReason
} from "./RevocationList.js"
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
  RevocationUnavailable,
  ScopeEscalation,
  SessionBindingError,
  TenantMismatch,
  type TokenError,
  TokenExpired,
  TokenInvalid,
  TokenNotYetValid,
  TokenPolicyError,
  TokenReplay,
  TokenRevoked
} from "./TokenError.js"
export {
  type CallTokenRequest,
  type ExchangeRequest,
  type MintedCallToken,
  type MintedToken,
  type MintRootRequest,
  TokenService,
  type TokenServiceOptions,
  type TokenServiceShape
} from "./TokenService.js"
export {
  type CacheStats,
  DEFAULT_CHAIN_CACHE_ENTRIES,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  MAX_TOKEN_LENGTH,
  makeVerifiedChainCache,
  type VerifiedChain,
  type VerifiedChainCache,
  type VerifyOptions,
  validateClockTolerance,
  verifyChain
} from "./Verifier.js"
