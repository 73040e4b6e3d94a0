/**
 * The pure part of a token exchange (RFC 8693 §2 semantics): from a verified parent chain and the
 * request, the child's claims or the policy error, with no Effect steps in between. Also the scope
 * and TTL checks shared with root minting.
 *
 * @internal
 */
import { Either, Schema } from "effect"
import { normalizeScopes, Scope, type TaskClaims } from "../Claims.js"
import type { ExchangeRequest } from "../TokenService.js"
import { DelegationChainError, ScopeEscalation, TokenExpired, TokenPolicyError } from "../TokenError.js"
import type { VerifiedChain } from "../Verifier.js"
import { spiffePartsOf } from "./memo.js"
import { agentIdentity, newJti } from "./mint.js"

const isScope = Schema.is(Scope)

/** A `TokenPolicyError` with `reason`, as a `Left`. */
export const policyLeft = (reason: TokenPolicyError["reason"]) =>
  Either.left(new TokenPolicyError({ reason }))

/** `ttl` is an integer number of seconds in `1..maxTtl`. */
export const validTtl = (ttl: number, maxTtl: number): boolean =>
  Number.isInteger(ttl) && ttl > 0 && ttl <= maxTtl

/**
 * Validates a scope list (no `*`: `wildcard`; non-empty: `scope_empty`; each a `Scope`:
 * `scope_invalid`) and returns it sorted and de-duplicated.
 */
export const checkScopes = (
  scopes: ReadonlyArray<string>
): Either.Either<ReadonlyArray<string>, TokenPolicyError> => {
  if (scopes.some((s) => typeof s === "string" && s.includes("*"))) return policyLeft("wildcard")
  if (scopes.length === 0) return policyLeft("scope_empty")
  if (!scopes.every(isScope)) return policyLeft("scope_invalid")
  return Either.right(normalizeScopes(scopes))
}

/** Errors of {@link childClaims}. */
export type ChildClaimsError = TokenPolicyError | DelegationChainError | ScopeEscalation | TokenExpired

/**
 * The claims of the token `req.toAgent` receives from the verified parent chain at `now` (epoch
 * seconds), checked in this order: intent equal to the parent's (`intent`), a valid target SPIFFE
 * ID (`identifier`) in the parent's trust domain (`binding`), depth (`depth`), no agent twice
 * (`cycle`), no wildcard (`wildcard`), scopes within the parent's and the target's allowed scopes
 * (`empty`, `exceeds_parent`, `exceeds_allowed`), TTL in `1..maxTtl` (`ttl`), `exp` capped at the
 * parent's and in the future (`TokenExpired(exp)`), `nbf < exp` (`expired`).
 */
export const childClaims = (
  req: ExchangeRequest,
  tenant: string,
  verified: VerifiedChain,
  now: number,
  maxTtl: number
): Either.Either<TaskClaims, ChildClaimsError> => {
  const parent = verified.leaf
  if (req.intent !== parent.int) return policyLeft("intent")
  const target = agentIdentity(req.trustDomain, tenant, req.toAgent)
  if (target === undefined) return policyLeft("identifier")
  if (spiffePartsOf(parent.sub)?.trustDomain !== target.trustDomain) {
    return Either.left(new DelegationChainError({ reason: "binding" }))
  }
  if (parent.dep + 1 > req.maxDepth) return Either.left(new DelegationChainError({ reason: "depth" }))
  if (verified.claims.some((c) => c.sub === target.uri)) {
    return Either.left(new DelegationChainError({ reason: "cycle" }))
  }

  if ([...req.requestedScopes, ...req.allowedScopes].some((s) => typeof s === "string" && s.includes("*"))) {
    return policyLeft("wildcard")
  }
  const held = new Set(parent.scp)
  const allowed = new Set(req.allowedScopes)
  if (!parent.scp.some((s) => allowed.has(s))) return Either.left(new ScopeEscalation({ reason: "empty" }))
  const checked = checkScopes(req.requestedScopes)
  if (Either.isLeft(checked)) return Either.left(checked.left)
  const scp = checked.right
  if (!scp.every((s) => held.has(s))) return Either.left(new ScopeEscalation({ reason: "exceeds_parent" }))
  if (!scp.every((s) => allowed.has(s))) {
    return Either.left(new ScopeEscalation({ reason: "exceeds_allowed" }))
  }

  if (!validTtl(req.ttlSeconds, maxTtl)) return policyLeft("ttl")
  const exp = Math.min(now + req.ttlSeconds, parent.exp)
  const nbf = Math.max(now, parent.nbf)
  if (exp <= now) return Either.left(new TokenExpired({ reason: "exp" }))
  if (nbf >= exp) return policyLeft("expired")

  const claims: TaskClaims = {
    iss: parent.iss,
    sub: target.uri,
    aud: target.uri,
    tnt: parent.tnt,
    sid: parent.sid,
    usr: parent.usr,
    txn: parent.txn,
    int: parent.int,
    scp: scp as TaskClaims["scp"],
    iat: now,
    nbf,
    exp,
    jti: newJti(),
    dep: parent.dep + 1,
    prev: verified.leafHash,
    act: parent.act === undefined ? { sub: parent.sub } : { sub: parent.sub, act: parent.act }
  }
  return Either.right(claims)
}
