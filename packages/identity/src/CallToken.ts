/**
 * Per-call tool tokens (`typ: cordon-call+jwt`, EdDSA, signed by the tenant's key): for every tool
 * call the broker exchanges the caller's task token for one of these, addressed to the tool
 * (`aud = tool:<name>`), holding exactly the tool's required scopes and bound to the request
 * (`rqb`, see `requestBinding`). The tool side verifies it before the handler runs. A distinct
 * `typ` with its own claim profile keeps the two kinds apart (RFC 8725 §3.11–3.12): a call token
 * never verifies as a link of a delegation chain, and a task token never as a call token.
 *
 * @module
 */
import { Either, Schema } from "effect"
import {
  Actor,
  actorEquals,
  AgentUri,
  EpochSeconds,
  IntentName,
  Scopes,
  SessionId,
  type TaskClaims,
  TaskId,
  TenantId,
  TokenHash,
  TokenId,
  UserId
} from "./Claims.js"
import { verifyCompact } from "./internal/link.js"
import { spiffePartsOf } from "./internal/memo.js"
import type { Jwks } from "./KeyRing.js"
import {
  AudienceMismatch,
  DelegationChainError,
  RevocationUnavailable,
  TenantMismatch,
  type TokenError,
  TokenExpired,
  TokenInvalid,
  TokenNotYetValid,
  TokenRevoked
} from "./TokenError.js"

/** JWT `typ` header of per-call tool tokens. */
export const CALL_TOKEN_TYPE = "cordon-call+jwt"

const TOOL_AUDIENCE = /^tool:[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

/** A tool audience: `tool:<tool name>` (dotted lower-case name, e.g. `tool:outbox.draft`). */
export const ToolAudience = Schema.String.pipe(
  Schema.pattern(TOOL_AUDIENCE),
  Schema.annotations({ title: "ToolAudience" })
)

/** The audience of the tool named `tool`: `tool:<tool>`. */
export const toolAudience = (tool: string): string => `tool:${tool}`

/** Whether `audience` is a valid {@link ToolAudience}. */
export const isToolAudience = (audience: string): boolean => TOOL_AUDIENCE.test(audience)

/**
 * Claims of a call token. Copied from the caller's task token (its leaf): `iss`, `sub` (the calling
 * agent), `tnt`, `sid`, `usr`, `txn`, `int`, `dep`, `act`; own: `aud` (the tool), `scp` (exactly the
 * tool's required scopes, ⊆ the caller's), `iat`/`nbf`/`exp` (`exp` ≤ the caller's), `jti`, `prev`
 * (`tokenHash` of the caller's token) and `rqb` (the request binding).
 */
export const CallClaims = Schema.Struct({
  iss: Schema.NonEmptyString,
  sub: AgentUri,
  aud: ToolAudience,
  tnt: TenantId,
  sid: SessionId,
  usr: UserId,
  txn: TaskId,
  int: IntentName,
  scp: Scopes,
  iat: EpochSeconds,
  nbf: EpochSeconds,
  exp: EpochSeconds,
  jti: TokenId,
  dep: Schema.Int.pipe(Schema.nonNegative()),
  prev: TokenHash,
  act: Schema.optionalWith(Actor, { exact: true }),
  rqb: TokenHash
})
export type CallClaims = typeof CallClaims.Type

/** Strict decoder of an untrusted call-token payload (unknown claims are an error). */
export const decodeCallClaims = Schema.decodeUnknownEither(CallClaims, {
  onExcessProperty: "error",
  errors: "first"
})

/** What the tool side knows when it checks a call token. */
export interface VerifyCallOptions {
  /** The verifier's tenant (a worker's own); `tnt` and the caller's SPIFFE ID tenant must equal it. */
  readonly tenant: string
  /** The tenant's pinned issuer. */
  readonly issuer: string
  /** The tenant's public keys; the key is chosen only from here, by `kid`. */
  readonly jwks: Jwks
  /** The audience of the tool about to run (`tool:<name>`). */
  readonly audience: string
  /** `requestBinding(tool, canonical args)` of the call about to run. */
  readonly binding: string
  /** The caller's own task token (chain leaf): its claims and `tokenHash`. */
  readonly parent: { readonly claims: TaskClaims; readonly hash: string }
  /** Revocation predicate (fails closed when it throws or answers a non-boolean). */
  readonly isRevoked: (jti: string) => boolean
  readonly now: Date
  /** Clock tolerance in seconds (0–30); default 5. */
  readonly clockToleranceSec?: number
}

const invalid = (reason: TokenInvalid["reason"]) => Either.left(new TokenInvalid({ reason }))
const broken = (reason: DelegationChainError["reason"]) => Either.left(new DelegationChainError({ reason }))

/** The caller binding: same holder, lineage and session as the caller's token, never wider or longer. */
const parentError = (c: CallClaims, parent: TaskClaims, hash: string): DelegationChainError | undefined => {
  if (c.prev !== hash || c.sub !== parent.sub || c.dep !== parent.dep || !actorEquals(c.act, parent.act)) {
    return new DelegationChainError({ reason: "broken_link" })
  }
  if (
    c.iss !== parent.iss ||
    c.sid !== parent.sid ||
    c.txn !== parent.txn ||
    c.usr !== parent.usr ||
    c.int !== parent.int
  ) {
    return new DelegationChainError({ reason: "binding" })
  }
  if (!c.scp.every((s) => parent.scp.includes(s)))
    return new DelegationChainError({ reason: "scope_widened" })
  if (c.exp > parent.exp || c.nbf < parent.nbf) return new DelegationChainError({ reason: "expiry_extended" })
  return undefined
}

const revoked = (jti: string, isRevoked: (jti: string) => boolean): TokenError | undefined => {
  try {
    const answer: unknown = isRevoked(jti)
    if (typeof answer !== "boolean") return new RevocationUnavailable({ reason: "unavailable" })
    return answer ? new TokenRevoked({ reason: "task_complete" }) : undefined
  } catch {
    return new RevocationUnavailable({ reason: "unavailable" })
  }
}

/**
 * Verifies a call token on the tool side, synchronously, in this order: compact JWS, header
 * `{ alg: "EdDSA", typ: "cordon-call+jwt", kid }` and the Ed25519 signature under `opts.jwks`
 * (`TokenInvalid`: `malformed`, `alg`, `typ`, `header`, `kid`, `signature`); the exact
 * {@link CallClaims} profile and the pinned issuer (`claims`); `tnt` and the caller's SPIFFE ID
 * tenant (`TenantMismatch`); `aud === opts.audience` (`AudienceMismatch(expected)` — a token lifted
 * from another tool); `rqb === opts.binding` (`TokenInvalid(request_binding)` — other arguments);
 * the caller binding (`DelegationChainError`: `broken_link` when `prev`/`sub`/`dep`/`act` do not
 * continue the caller's token, `binding`, `scope_widened`, `expiry_extended`); revocation
 * (`TokenRevoked`, `RevocationUnavailable`); time with the clock tolerance (`TokenExpired`,
 * `TokenNotYetValid`). Threat RP-03.
 */
export const verifyCallToken = (
  token: unknown,
  opts: VerifyCallOptions
): Either.Either<CallClaims, TokenError> => {
  const signed = verifyCompact(token, opts.jwks, CALL_TOKEN_TYPE, false)
  if (Either.isLeft(signed)) return Either.left(signed.left)
  const decoded = decodeCallClaims(signed.right.payload)
  if (Either.isLeft(decoded)) return invalid("claims")
  const c = decoded.right
  if (c.tnt !== opts.tenant) return Either.left(new TenantMismatch({ reason: "tnt" }))
  if (spiffePartsOf(c.sub)?.tenant !== c.tnt) return Either.left(new TenantMismatch({ reason: "sub" }))
  if (c.iss !== opts.issuer || c.nbf >= c.exp || c.iat > c.exp) return invalid("claims")
  if (c.aud !== opts.audience) return Either.left(new AudienceMismatch({ reason: "expected" }))
  if (c.rqb !== opts.binding) return invalid("request_binding")
  const lineage = parentError(c, opts.parent.claims, opts.parent.hash)
  if (lineage !== undefined) return broken(lineage.reason)
  const refused = revoked(c.jti, opts.isRevoked)
  if (refused !== undefined) return Either.left(refused)
  const tolerance = opts.clockToleranceSec ?? 5
  const now = Math.floor(opts.now.getTime() / 1000)
  if (c.exp <= now - tolerance) return Either.left(new TokenExpired({ reason: "exp" }))
  if (c.nbf > now + tolerance) return Either.left(new TokenNotYetValid({ reason: "nbf" }))
  if (c.iat > now + tolerance) return Either.left(new TokenNotYetValid({ reason: "iat" }))
  return Either.right(c)
}
