/**
 * Typed failures of task-token minting, exchange and verification. Each error carries a stable
 * `code` and a `reason` from a closed set; messages never contain tokens, keys or claim values.
 *
 * @module
 */
import { Schema } from "effect"

const code = <C extends string>(c: C) =>
  Schema.Literal(c).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => c)
  )

/**
 * The token is not acceptable as a task token: wrong or missing `alg` (`alg`), signature does not
 * verify (`signature`), `kid` missing or not in the local JWKS (`kid`), wrong `typ` (`typ`),
 * forbidden header parameter such as `jwk`/`jku`/`x5u`/`x5c`/`crit` (`header`), claim set does not
 * match the profile or the pinned issuer (`claims`), not a compact JWS or too large (`malformed`),
 * a per-call token bound to another request (`request_binding`: its `rqb` is not the hash of the
 * tool and the arguments being run). See RFC 8725 §3.1, §3.10–3.12.
 */
export class TokenInvalid extends Schema.TaggedError<TokenInvalid>()("TokenInvalid", {
  code: code("E_TOKEN_INVALID"),
  reason: Schema.Literal("alg", "signature", "kid", "typ", "header", "claims", "malformed", "request_binding")
}) {}

/** A link is past its `exp` (beyond the clock tolerance). RFC 7519 §4.1.4. */
export class TokenExpired extends Schema.TaggedError<TokenExpired>()("TokenExpired", {
  code: code("E_TOKEN_EXPIRED"),
  reason: Schema.Literal("exp", "max_age")
}) {}

/** A link's `nbf` (or `iat`) lies in the future beyond the clock tolerance. RFC 7519 §4.1.5. */
export class TokenNotYetValid extends Schema.TaggedError<TokenNotYetValid>()("TokenNotYetValid", {
  code: code("E_TOKEN_NOT_YET_VALID"),
  reason: Schema.Literal("nbf", "iat")
}) {}

/**
 * The token's own `jti` is revoked (`task_complete`: task teardown revokes every credential of
 * the task) or an ancestor's `jti` is (`ancestor_revoked`).
 */
export class TokenRevoked extends Schema.TaggedError<TokenRevoked>()("TokenRevoked", {
  code: code("E_TOKEN_REVOKED"),
  reason: Schema.Literal("task_complete", "ancestor_revoked")
}) {}

/** A link belongs to another tenant than the verifier's (`tnt` or the SPIFFE ID's tenant segment). */
export class TenantMismatch extends Schema.TaggedError<TenantMismatch>()("TenantMismatch", {
  code: code("E_TENANT_MISMATCH"),
  reason: Schema.Literal("tnt", "sub")
}) {}

/** A link's `aud` is not its `sub` (`holder`), or the leaf's `aud` is not the expected one (`expected`). */
export class AudienceMismatch extends Schema.TaggedError<AudienceMismatch>()("AudienceMismatch", {
  code: code("E_AUDIENCE_MISMATCH"),
  reason: Schema.Literal("holder", "expected")
}) {}

/**
 * The delegation chain is not a valid lineage: a missing, reordered or inserted link, `prev`,
 * `dep` or `act` discontinuity (`broken_link`); a link's signature fails inside a multi-link
 * chain (`bad_signature`); too many links (`depth`); an agent appears twice (`cycle`); a link
 * changes `iss`/`sid`/`txn`/`usr` or trust domain (`binding`); a link's scopes are not a subset
 * of its parent's (`scope_widened`); a link's validity reaches past or before its parent's
 * (`expiry_extended`). See RFC 8693 §4.1.
 */
export class DelegationChainError extends Schema.TaggedError<DelegationChainError>()("DelegationChainError", {
  code: code("E_DELEGATION_CHAIN"),
  reason: Schema.Literal(
    "broken_link",
    "bad_signature",
    "depth",
    "cycle",
    "binding",
    "scope_widened",
    "expiry_extended"
  )
}) {}

/**
 * A link's `sid` is not the session the verifier was told to expect (`VerifyOptions.session`, set
 * from the caller's context by the supervisor, never from the request). Threat IP-03.
 */
export class SessionBindingError extends Schema.TaggedError<SessionBindingError>()("SessionBindingError", {
  code: code("E_SESSION_BINDING"),
  reason: Schema.Literal("sid")
}) {}

/**
 * The revocation status of a link could not be established: the revocation predicate threw or
 * did not answer with a boolean. Verification fails closed. Threat OR-04.
 */
export class RevocationUnavailable extends Schema.TaggedError<RevocationUnavailable>()(
  "RevocationUnavailable",
  {
    code: code("E_REVOCATION_UNAVAILABLE"),
    reason: Schema.Literal("unavailable")
  }
) {}

/** Any failure of chain verification. */
export type TokenError =
  | TokenInvalid
  | TokenExpired
  | TokenNotYetValid
  | TokenRevoked
  | TenantMismatch
  | AudienceMismatch
  | DelegationChainError
  | SessionBindingError
  | RevocationUnavailable

/**
 * A single-use key (e.g. a token's `jti`) was claimed a second time before its expiry plus the
 * clock tolerance (`seen`), or the replay guard is full of unexpired keys and cannot record a new
 * one (`capacity`; it refuses rather than forget a key early). Threat RP-01.
 */
export class TokenReplay extends Schema.TaggedError<TokenReplay>()("TokenReplay", {
  code: code("E_TOKEN_REPLAY"),
  reason: Schema.Literal("seen", "capacity")
}) {}

/**
 * A token exchange asks for more than it may hold: a scope its parent does not hold
 * (`exceeds_parent`), a scope the target agent may never hold (`exceeds_allowed`), or the parent's
 * scopes and the target's allowed scopes do not intersect (`empty`). Never widened silently.
 */
export class ScopeEscalation extends Schema.TaggedError<ScopeEscalation>()("ScopeEscalation", {
  code: code("E_SCOPE_ESCALATION"),
  reason: Schema.Literal("exceeds_parent", "exceeds_allowed", "empty")
}) {}

/**
 * A mint or exchange request breaks minting policy: a wildcard scope (`wildcard`), no scope
 * (`scope_empty`), a malformed scope (`scope_invalid`), a TTL that is not a positive integer or
 * exceeds the service maximum (`ttl`), a malformed tenant/session/user/task/agent/trust domain
 * (`identifier`), a malformed or changed intent (`intent`), a validity window that has
 * already closed (`expired`), or a per-call token asking for other scopes than exactly the called
 * tool's requirement — the whole catalogue up front, say (`catalogue`; threat TM-07).
 */
export class TokenPolicyError extends Schema.TaggedError<TokenPolicyError>()("TokenPolicyError", {
  code: code("E_TOKEN_POLICY"),
  reason: Schema.Literal(
    "wildcard",
    "scope_empty",
    "scope_invalid",
    "ttl",
    "identifier",
    "intent",
    "expired",
    "catalogue"
  )
}) {}
