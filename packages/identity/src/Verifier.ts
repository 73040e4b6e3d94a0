/**
 * Delegation-chain verification, usable in the broker and in a tenant worker that holds only its
 * own tenant's public JWKS. Pure with respect to time and revocation: both are passed in.
 *
 * @module
 */
import { Effect } from "effect"
import { actorEquals, type TaskClaims, tokenHash } from "./Claims.js"
import { verifyLink } from "./internal/link.js"
import type { Jwks } from "./KeyRing.js"
import { parseSpiffeId } from "./SpiffeId.js"
import {
  AudienceMismatch,
  DelegationChainError,
  type TokenError,
  TokenExpired,
  TokenNotYetValid,
  TokenInvalid,
  TokenRevoked
} from "./TokenError.js"

export { MAX_TOKEN_LENGTH } from "./internal/link.js"

/** Default clock tolerance, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5
/** Largest clock tolerance accepted, in seconds (threat CS-01). */
export const MAX_CLOCK_TOLERANCE_SEC = 30

/** Inputs of {@link verifyChain}. */
export interface VerifyOptions {
  /** The verifier's tenant; every link's `tnt` (and SPIFFE ID tenant) must equal it. */
  readonly tenant: string
  /** The pinned issuer, e.g. `tenantIssuer(tenant)`. */
  readonly issuer: string
  /** Expected `aud` of the LEAF (the SPIFFE ID URI of the agent presenting the chain). */
  readonly audience?: string
  /** Public keys of the tenant; keys are chosen only from here, by `kid`. */
  readonly jwks: Jwks
  /** Revocation predicate, consulted for every link's `jti` on every call. Must not throw. */
  readonly isRevoked: (jti: string) => boolean
  /** The current time. */
  readonly now: Date
  /** Clock tolerance for `exp`/`nbf`/`iat`, in seconds, 0–30; default 5. */
  readonly clockToleranceSec?: number
  /** Maximum delegation depth: the chain may hold at most `maxDepth + 1` links. */
  readonly maxDepth: number
  /** Optional maximum age of every link (`now - iat`), in seconds (threat LS-01). */
  readonly maxTokenAgeSec?: number
}

/** A verified chain. */
export interface VerifiedChain {
  /** Decoded claims of every link, root first. */
  readonly claims: ReadonlyArray<TaskClaims>
  /** Claims of the last link (the token of the agent presenting the chain). */
  readonly leaf: TaskClaims
  /** {@link tokenHash} of the last link. */
  readonly leafHash: string
}

const chainError = (reason: DelegationChainError["reason"]) =>
  Effect.fail(new DelegationChainError({ reason }))

const isSubset = (child: ReadonlyArray<string>, parent: ReadonlyArray<string>): boolean => {
  const allowed = new Set(parent)
  return child.every((s) => allowed.has(s))
}

const trustDomainOf = (uri: string): string | undefined => {
  const parsed = parseSpiffeId(uri)
  return parsed._tag === "Right" ? parsed.right.trustDomain : undefined
}

/** Lineage rules between consecutive links (RFC 8693 §4.1 semantics, our own signed chain). */
const checkLineage = (
  links: ReadonlyArray<TaskClaims>,
  hashes: ReadonlyArray<string>,
  maxDepth: number
): Effect.Effect<void, DelegationChainError> => {
  const root = links[0]!
  if (root.dep !== 0 || root.prev !== undefined || root.act !== undefined) return chainError("broken_link")
  const seen = new Set([root.sub])
  const trustDomain = trustDomainOf(root.sub)
  for (let i = 1; i < links.length; i++) {
    const parent = links[i - 1]!
    const link = links[i]!
    if (link.prev !== hashes[i - 1]) return chainError("broken_link")
    if (link.dep !== parent.dep + 1) return chainError("broken_link")
    if (link.dep > maxDepth) return chainError("depth")
    const expectedAct = parent.act === undefined ? { sub: parent.sub } : { sub: parent.sub, act: parent.act }
    if (!actorEquals(link.act, expectedAct)) return chainError("broken_link")
    if (seen.has(link.sub)) return chainError("cycle")
    seen.add(link.sub)
    if (
      link.iss !== parent.iss ||
      link.sid !== parent.sid ||
      link.txn !== parent.txn ||
      link.usr !== parent.usr ||
      trustDomainOf(link.sub) !== trustDomain
    ) {
      return chainError("binding")
    }
    if (!isSubset(link.scp, parent.scp)) return chainError("scope_widened")
    if (link.exp > parent.exp || link.nbf < parent.nbf) return chainError("expiry_extended")
  }
  return Effect.void
}

/** Validity window of every link at `nowSec` (RFC 7519 §4.1.4–4.1.6). */
const checkTimes = (
  links: ReadonlyArray<TaskClaims>,
  nowSec: number,
  tolerance: number,
  maxAge: number | undefined
): Effect.Effect<void, TokenExpired | TokenNotYetValid> => {
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!
    if (link.exp <= nowSec - tolerance) return Effect.fail(new TokenExpired({ reason: "exp" }))
    if (maxAge !== undefined && link.iat + maxAge < nowSec - tolerance) {
      return Effect.fail(new TokenExpired({ reason: "max_age" }))
    }
    if (link.nbf > nowSec + tolerance) return Effect.fail(new TokenNotYetValid({ reason: "nbf" }))
    if (link.iat > nowSec + tolerance) return Effect.fail(new TokenNotYetValid({ reason: "iat" }))
  }
  return Effect.void
}

const checkOptions = (opts: VerifyOptions): number => {
  const tolerance = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC
  if (!Number.isInteger(opts.maxDepth) || opts.maxDepth < 0)
    throw new Error("maxDepth must be an integer >= 0")
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SEC) {
    throw new Error("clockToleranceSec must be within 0..30")
  }
  if (opts.maxTokenAgeSec !== undefined && !(opts.maxTokenAgeSec > 0))
    throw new Error("maxTokenAgeSec must be > 0")
  if (Number.isNaN(opts.now.getTime())) throw new Error("now must be a valid date")
  return tolerance
}

/**
 * Verifies a delegation chain, root first, and returns its claims.
 *
 * Per link: compact JWS only (JWE and other shapes are `TokenInvalid(malformed)`), at most
 * {@link MAX_TOKEN_LENGTH} characters; header exactly `{ alg: "EdDSA", typ: "cordon-task+jwt", kid }`
 * (`alg`, `typ`, `kid`, `header` — so `jwk`/`jku`/`x5u`/`x5c`/`crit` are refused); the Ed25519
 * signature under the key with that `kid` in `opts.jwks` (unknown `kid` → `TokenInvalid(kid)`; bad
 * signature → `TokenInvalid(signature)` for a one-link chain, `DelegationChainError(bad_signature)`
 * otherwise); the exact `TaskClaims` profile and `iss === opts.issuer` (`claims`); `tnt` and the
 * SPIFFE ID's tenant equal `opts.tenant` (`TenantMismatch`); `aud === sub` (`AudienceMismatch`).
 *
 * Across links: at most `maxDepth + 1` links (`depth`); the root has `dep` 0 and no `prev`/`act`;
 * link i has `prev = tokenHash(link i-1)`, `dep = parent.dep + 1`, `act = { sub: parent.sub, act:
 * parent.act }` (`broken_link`); no agent twice (`cycle`); same `iss`/`sid`/`txn`/`usr` and trust
 * domain (`binding`); `scp ⊆ parent.scp` (`scope_widened`); `exp ≤ parent.exp`, `nbf ≥ parent.nbf`
 * (`expiry_extended`). The leaf's `aud` must equal `opts.audience` when given (`AudienceMismatch`).
 *
 * Then revocation (leaf's `jti` → `TokenRevoked(task_complete)`, any ancestor's →
 * `TokenRevoked(ancestor_revoked)`) and time (`exp`, optional max age → `TokenExpired`; `nbf`, `iat`
 * → `TokenNotYetValid`), with `clockToleranceSec` leeway, on every call.
 *
 * Invalid options (`maxDepth`, tolerance outside 0–30 s, invalid `now`) and a throwing
 * `isRevoked` are defects: the effect dies, it never succeeds.
 */
export const verifyChain = (
  chain: ReadonlyArray<string>,
  opts: VerifyOptions
): Effect.Effect<VerifiedChain, TokenError> =>
  Effect.gen(function* () {
    const tolerance = yield* Effect.sync(() => checkOptions(opts))
    yield* Effect.annotateCurrentSpan({ tenant: opts.tenant, chainLength: chain.length })
    if (!Array.isArray(chain) || chain.length === 0) {
      return yield* Effect.fail(new TokenInvalid({ reason: "malformed" }))
    }
    if (chain.length > opts.maxDepth + 1) return yield* chainError("depth")

    const inChain = chain.length > 1
    const links: Array<TaskClaims> = []
    for (const compact of chain) links.push(yield* verifyLink(compact, opts, inChain))
    const hashes = chain.map(tokenHash)

    yield* checkLineage(links, hashes, opts.maxDepth)
    const leaf = links[links.length - 1]!
    if (opts.audience !== undefined && leaf.aud !== opts.audience) {
      return yield* Effect.fail(new AudienceMismatch({ reason: "expected" }))
    }

    const revoked = yield* Effect.sync(() => links.map((l) => opts.isRevoked(l.jti)))
    if (revoked[revoked.length - 1]) return yield* Effect.fail(new TokenRevoked({ reason: "task_complete" }))
    if (revoked.some(Boolean)) return yield* Effect.fail(new TokenRevoked({ reason: "ancestor_revoked" }))

    yield* checkTimes(links, Math.floor(opts.now.getTime() / 1000), tolerance, opts.maxTokenAgeSec)
    return { claims: links, leaf, leafHash: hashes[hashes.length - 1]! }
  }).pipe(Effect.withSpan("Verifier.verifyChain"))
