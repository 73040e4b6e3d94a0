/**
 * The pure part of a call-token exchange: from the caller's verified chain and the request, the
 * call token's claims or the refusal, with no Effect steps in between.
 *
 * @internal
 */
import { Either } from "effect"
import { type CallClaims, isToolAudience } from "../CallToken.js"
import { normalizeScopes, type TokenHash } from "../Claims.js"
import type { CallTokenRequest } from "../TokenService.js"
import { ScopeEscalation, TokenExpired, type TokenPolicyError } from "../TokenError.js"
import type { VerifiedChain } from "../Verifier.js"
import { checkScopes, policyLeft, validTtl } from "./childClaims.js"
import { newJti } from "./mint.js"

const TOKEN_HASH = /^[A-Za-z0-9_-]{43}$/

/** Errors of {@link callClaims}. */
export type CallClaimsError = TokenPolicyError | ScopeEscalation | TokenExpired

const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((s, i) => s === b[i])

/**
 * The claims of the call token for `req` from the caller's verified chain at `now` (epoch seconds),
 * checked in this order: no wildcard in the requested or required scopes (`wildcard`), a valid
 * requested set (`scope_empty`, `scope_invalid`), requested = required exactly (`catalogue`), within
 * the caller's scopes (`ScopeEscalation(exceeds_parent)`), a valid audience and binding
 * (`identifier`), TTL in `1..maxTtl` (`ttl`), `exp` capped at the caller's and in the future
 * (`TokenExpired(exp)`), `nbf < exp` (`expired`).
 */
export const callClaims = (
  req: CallTokenRequest,
  verified: VerifiedChain,
  now: number,
  maxTtl: number
): Either.Either<CallClaims, CallClaimsError> => {
  const parent = verified.leaf
  if ([...req.requestedScopes, ...req.requiredScopes].some((s) => typeof s === "string" && s.includes("*"))) {
    return policyLeft("wildcard")
  }
  const checked = checkScopes(req.requestedScopes)
  if (Either.isLeft(checked)) return Either.left(checked.left)
  const scp = checked.right
  if (!sameSet(scp, normalizeScopes(req.requiredScopes))) return policyLeft("catalogue")
  const held = new Set(parent.scp)
  if (!scp.every((s) => held.has(s))) return Either.left(new ScopeEscalation({ reason: "exceeds_parent" }))
  if (!isToolAudience(req.audience) || !TOKEN_HASH.test(req.binding)) return policyLeft("identifier")
  if (!validTtl(req.ttlSeconds, maxTtl)) return policyLeft("ttl")
  const exp = Math.min(now + req.ttlSeconds, parent.exp)
  const nbf = Math.max(now, parent.nbf)
  if (exp <= now) return Either.left(new TokenExpired({ reason: "exp" }))
  if (nbf >= exp) return policyLeft("expired")
  const claims: CallClaims = {
    iss: parent.iss,
    sub: parent.sub,
    aud: req.audience,
    tnt: parent.tnt,
    sid: parent.sid,
    usr: parent.usr,
    txn: parent.txn,
    int: parent.int,
    scp: scp as CallClaims["scp"],
    iat: now,
    nbf,
    exp,
    jti: newJti(),
    dep: parent.dep,
    prev: verified.leafHash as typeof TokenHash.Type,
    ...(parent.act === undefined ? {} : { act: parent.act }),
    rqb: req.binding
  }
  return Either.right(claims)
}
