/**
 * Delegation-chain verification, usable in the broker and in a tenant worker that holds only its
 * own tenant's public JWKS. Pure with respect to time and revocation: both are passed in.
 *
 * @module
 */
import { Effect, Either } from "effect"
import { type TaskClaims, tokenHash } from "./Claims.js"
import { IdentityConfigError } from "./IdentityConfigError.js"
import { ChainCacheImpl } from "./internal/chainCache.js"
import { LineageWalker } from "./internal/lineage.js"
import { MAX_TOKEN_LENGTH, verifyLink } from "./internal/link.js"
import type { Jwks } from "./KeyRing.js"
import {
  AudienceMismatch,
  DelegationChainError,
  RevocationUnavailable,
  SessionBindingError,
  type TokenError,
  TokenExpired,
  TokenInvalid,
  TokenNotYetValid,
  TokenRevoked
} from "./TokenError.js"
import type { VerifiedChainCache } from "./VerifiedChainCache.js"

export { MAX_TOKEN_LENGTH } from "./internal/link.js"
export {
  type CacheStats,
  DEFAULT_CHAIN_CACHE_ENTRIES,
  makeVerifiedChainCache,
  type VerifiedChainCache
} from "./VerifiedChainCache.js"

/** Default clock tolerance, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5
/** Largest clock tolerance accepted, in seconds (threat CS-01). */
export const MAX_CLOCK_TOLERANCE_SEC = 30

/**
 * Validates a clock tolerance at boot (threat CS-01): `undefined` → the default 5 s; a finite
 * number within 0–30 s → itself; anything else → `Left(IdentityConfigError(clock_tolerance))`
 * (code `E_CONFIG`).
 */
export const validateClockTolerance = (
  seconds: number | undefined
): Either.Either<number, IdentityConfigError> => {
  if (seconds === undefined) return Either.right(DEFAULT_CLOCK_TOLERANCE_SEC)
  return typeof seconds === "number" &&
    Number.isFinite(seconds) &&
    seconds >= 0 &&
    seconds <= MAX_CLOCK_TOLERANCE_SEC
    ? Either.right(seconds)
    : Either.left(new IdentityConfigError({ reason: "clock_tolerance" }))
}

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
  /**
   * Revocation predicate, consulted for every link's `jti` on every call. If it throws or answers
   * anything but a boolean, verification fails with `RevocationUnavailable` (fail closed, OR-04).
   */
  readonly isRevoked: (jti: string) => boolean
  /** The current time. */
  readonly now: Date
  /** Clock tolerance for `exp`/`nbf`/`iat`, in seconds, 0–30; default 5. */
  readonly clockToleranceSec?: number
  /** Maximum delegation depth: the chain may hold at most `maxDepth + 1` links. */
  readonly maxDepth: number
  /** Optional maximum age of every link (`now - iat`), in seconds (threat LS-01). */
  readonly maxTokenAgeSec?: number
  /**
   * The caller's session, from the supervisor's context (never from the request). When given,
   * every link's `sid` must equal it, else `SessionBindingError` (threat IP-03).
   */
  readonly session?: string
  /**
   * The root task the chain must belong to. When given, every link's `txn` must equal it, else
   * `DelegationChainError(binding)`.
   */
  readonly txn?: string
  /** A prefix cache shared across calls (see `makeVerifiedChainCache`). */
  readonly cache?: VerifiedChainCache
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

/** Validity window of every link at `nowSec` (RFC 7519 §4.1.4–4.1.6). */
const timeError = (
  links: ReadonlyArray<TaskClaims>,
  nowSec: number,
  tolerance: number,
  maxAge: number | undefined
): TokenExpired | TokenNotYetValid | undefined => {
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!
    if (link.exp <= nowSec - tolerance) return new TokenExpired({ reason: "exp" })
    if (maxAge !== undefined && link.iat + maxAge < nowSec - tolerance) {
      return new TokenExpired({ reason: "max_age" })
    }
    if (link.nbf > nowSec + tolerance) return new TokenNotYetValid({ reason: "nbf" })
    if (link.iat > nowSec + tolerance) return new TokenNotYetValid({ reason: "iat" })
  }
  return undefined
}

const checkOptions = (opts: VerifyOptions): number => {
  const tolerance = validateClockTolerance(opts.clockToleranceSec)
  if (Either.isLeft(tolerance)) throw new Error("clockToleranceSec must be within 0..30")
  if (!Number.isInteger(opts.maxDepth) || opts.maxDepth < 0)
    throw new Error("maxDepth must be an integer >= 0")
  if (opts.maxTokenAgeSec !== undefined && !(opts.maxTokenAgeSec > 0))
    throw new Error("maxTokenAgeSec must be > 0")
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime()))
    throw new Error("now must be a valid date")
  if (opts.cache !== undefined && !(opts.cache instanceof ChainCacheImpl)) {
    throw new Error("cache must come from makeVerifiedChainCache")
  }
  return tolerance.right
}

/** Freezes decoded claims (plain JSON data) so a shared cached copy cannot be altered by a caller. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Bindings of one link to the caller's context: session (IP-03) and root task. */
const bindingError = (
  link: TaskClaims,
  opts: VerifyOptions
): SessionBindingError | DelegationChainError | undefined => {
  if (opts.session !== undefined && link.sid !== opts.session)
    return new SessionBindingError({ reason: "sid" })
  if (opts.txn !== undefined && link.txn !== opts.txn) return new DelegationChainError({ reason: "binding" })
  return undefined
}

/** Revocation status of every link, failing closed when the predicate throws or does not answer. */
const revocationError = (
  links: ReadonlyArray<TaskClaims>,
  isRevoked: (jti: string) => boolean
): TokenRevoked | RevocationUnavailable | undefined => {
  let leafRevoked = false
  let ancestorRevoked = false
  try {
    for (let i = 0; i < links.length; i++) {
      const answer: unknown = isRevoked(links[i]!.jti)
      if (typeof answer !== "boolean") return new RevocationUnavailable({ reason: "unavailable" })
      if (answer) {
        if (i === links.length - 1) leafRevoked = true
        else ancestorRevoked = true
      }
    }
  } catch {
    return new RevocationUnavailable({ reason: "unavailable" })
  }
  if (leafRevoked) return new TokenRevoked({ reason: "task_complete" })
  if (ancestorRevoked) return new TokenRevoked({ reason: "ancestor_revoked" })
  return undefined
}

type Outcome = Either.Either<VerifiedChain, TokenError>

/** A verification in progress: the links accepted so far, root first. */
class ChainWalk {
  readonly links: Array<TaskClaims> = []
  readonly hashes: Array<string> = []
  private readonly lineage: LineageWalker
  private readonly cache: ChainCacheImpl | undefined
  private readonly inChain: boolean

  constructor(
    private readonly chain: ReadonlyArray<string>,
    private readonly opts: VerifyOptions,
    private readonly tolerance: number
  ) {
    this.lineage = new LineageWalker(opts.maxDepth)
    this.cache = opts.cache as ChainCacheImpl | undefined
    this.inChain = chain.length > 1
  }

  /** Adds one link after its own checks: the bindings, then its lineage; the failure if any. */
  private accept(claims: TaskClaims, hash: string): TokenError | undefined {
    const refused = bindingError(claims, this.opts) ?? this.lineage.next(claims, hash)
    if (refused !== undefined) return refused
    this.links.push(claims)
    this.hashes.push(hash)
    return undefined
  }

  /**
   * Accepts the links served by the cache, from the root on, until the first one it cannot serve.
   * Returns the failure, or the index of the first link still to verify (`chain.length` if none).
   */
  cachedPrefix(): TokenError | number {
    const cache = this.cache
    if (cache === undefined) return 0
    for (let i = 0; i < this.chain.length; i++) {
      const entry = cache.lookup(this.chain[i]!, this.hashes[i - 1], this.opts)
      if (entry === undefined) return i
      const refused = this.accept(entry.claims, entry.hash)
      if (refused !== undefined) return refused
    }
    return this.chain.length
  }

  /** Verifies links `from` … last in full (signature, claims), accepting and caching each. */
  verifyFrom(from: number): TokenError | undefined {
    for (let i = from; i < this.chain.length; i++) {
      const token = this.chain[i]!
      const link = verifyLink(token, this.opts, this.inChain)
      if (Either.isLeft(link)) return link.left
      const hash = tokenHash(token)
      const refused = this.accept(link.right.claims, hash)
      if (refused !== undefined) return refused
      if (this.cache !== undefined) {
        const { kid, x } = link.right
        const claims = deepFreeze(link.right.claims)
        this.cache.insert(token, { claims, kid, x, hash, prevHash: this.hashes[i - 1] })
      }
    }
    return undefined
  }

  /** The whole-chain checks once every link is accepted: audience, revocation, time. */
  finish(): Outcome {
    const { links, opts } = this
    const leaf = links[links.length - 1]!
    if (opts.audience !== undefined && leaf.aud !== opts.audience) {
      return Either.left(new AudienceMismatch({ reason: "expected" }))
    }
    const nowSec = Math.floor(opts.now.getTime() / 1000)
    const refused =
      revocationError(links, opts.isRevoked) ?? timeError(links, nowSec, this.tolerance, opts.maxTokenAgeSec)
    if (refused !== undefined) return Either.left(refused)
    return Either.right({ claims: links, leaf, leafHash: this.hashes[this.hashes.length - 1]! })
  }
}

/**
 * Verifies a delegation chain, root first, and returns its claims.
 *
 * Links are checked in order, each fully (its own rules, then the bindings, then its lineage
 * against its parent) before the next, so the first bad link decides the error and the links
 * after it are not even signature-checked. The whole chain then passes the audience, revocation
 * and time checks.
 *
 * Per link: compact JWS only (JWE and other shapes, non-canonical base64url are
 * `TokenInvalid(malformed)`), at most {@link MAX_TOKEN_LENGTH} characters; header exactly
 * `{ alg: "EdDSA", typ: "cordon-task+jwt", kid }` (`alg`, `typ`, `kid`, `header` — so
 * `jwk`/`jku`/`x5u`/`x5c`/`crit` are refused); the Ed25519 signature under the key with that
 * `kid` in `opts.jwks` (unknown `kid` → `TokenInvalid(kid)`; bad signature →
 * `TokenInvalid(signature)` for a one-link chain, `DelegationChainError(bad_signature)`
 * otherwise); the exact `TaskClaims` profile and `iss === opts.issuer` (`claims`); `tnt` and the
 * SPIFFE ID's tenant equal `opts.tenant` (`TenantMismatch`); `aud === sub` (`AudienceMismatch`).
 *
 * Bindings: every `sid` equals `opts.session` when given (`SessionBindingError`), every `txn`
 * equals `opts.txn` when given (`DelegationChainError(binding)`).
 *
 * Across links: at most `maxDepth + 1` links (`depth`); the root has `dep` 0 and no `prev`/`act`;
 * link i has `prev = tokenHash(link i-1)`, `dep = parent.dep + 1`, `act = { sub: parent.sub, act:
 * parent.act }` (`broken_link`); no agent twice (`cycle`); same `iss`/`sid`/`txn`/`usr` and trust
 * domain (`binding`); `scp ⊆ parent.scp` (`scope_widened`); `exp ≤ parent.exp`, `nbf ≥ parent.nbf`
 * (`expiry_extended`). The leaf's `aud` must equal `opts.audience` when given (`AudienceMismatch`).
 *
 * Then revocation (leaf's `jti` → `TokenRevoked(task_complete)`, any ancestor's →
 * `TokenRevoked(ancestor_revoked)`; a throwing or non-boolean predicate → `RevocationUnavailable`)
 * and time (`exp`, optional max age → `TokenExpired`; `nbf`, `iat` → `TokenNotYetValid`), with
 * `clockToleranceSec` leeway, on every call — also for links served from `opts.cache`, which only
 * saves the signature check and decoding of an already verified prefix.
 *
 * Tracing: a `Verifier.verifyChain` span (attributes `tenant`, `chainLength`, `cachedLinks`) covers
 * every call that checks at least one signature; a chain served entirely from `opts.cache` (a few
 * microseconds) opens no span of its own and runs in the caller's.
 *
 * Invalid options (`maxDepth`, tolerance outside 0–30 s — see {@link validateClockTolerance} to
 * refuse it at boot —, invalid `now`, a foreign cache object) are defects: the effect dies, it never
 * succeeds.
 */
export const verifyChain = (
  chain: ReadonlyArray<string>,
  opts: VerifyOptions
): Effect.Effect<VerifiedChain, TokenError> =>
  Effect.suspend(() => {
    const tolerance = checkOptions(opts)
    if (!Array.isArray(chain) || chain.length === 0) {
      return Effect.fail(new TokenInvalid({ reason: "malformed" }))
    }
    if (chain.length > opts.maxDepth + 1) return Effect.fail(new DelegationChainError({ reason: "depth" }))
    for (const token of chain) {
      if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
        return Effect.fail(new TokenInvalid({ reason: "malformed" }))
      }
    }
    const walk = new ChainWalk(chain, opts, tolerance)
    const from = walk.cachedPrefix()
    if (typeof from !== "number") return Effect.fail(from)
    if (from === chain.length) return walk.finish()
    return Effect.suspend(() => {
      const refused = walk.verifyFrom(from)
      return refused === undefined ? walk.finish() : Either.left(refused)
    }).pipe(
      Effect.withSpan("Verifier.verifyChain", {
        captureStackTrace: false,
        attributes: { tenant: opts.tenant, chainLength: chain.length, cachedLinks: from }
      })
    )
  })
