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
import { MAX_TOKEN_LENGTH, stillAcceptable, verifyLink } from "./internal/link.js"
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

const chainError = (reason: DelegationChainError["reason"]) =>
  Effect.fail(new DelegationChainError({ reason }))

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
const checkRevocation = (
  links: ReadonlyArray<TaskClaims>,
  isRevoked: (jti: string) => boolean
): Effect.Effect<void, TokenRevoked | RevocationUnavailable> => {
  const answers: Array<unknown> = []
  try {
    for (const link of links) answers.push(isRevoked(link.jti))
  } catch {
    return Effect.fail(new RevocationUnavailable({ reason: "unavailable" }))
  }
  if (!answers.every((a) => typeof a === "boolean")) {
    return Effect.fail(new RevocationUnavailable({ reason: "unavailable" }))
  }
  if (answers[answers.length - 1] === true) return Effect.fail(new TokenRevoked({ reason: "task_complete" }))
  if (answers.includes(true)) return Effect.fail(new TokenRevoked({ reason: "ancestor_revoked" }))
  return Effect.void
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
 * Invalid options (`maxDepth`, tolerance outside 0–30 s — see {@link validateClockTolerance} to
 * refuse it at boot —, invalid `now`, a foreign cache object) are defects: the effect dies, it never
 * succeeds.
 */
export const verifyChain = (
  chain: ReadonlyArray<string>,
  opts: VerifyOptions
): Effect.Effect<VerifiedChain, TokenError> =>
  Effect.gen(function* () {
    const tolerance = yield* Effect.sync(() => checkOptions(opts))
    if (!Array.isArray(chain) || chain.length === 0) {
      return yield* Effect.fail(new TokenInvalid({ reason: "malformed" }))
    }
    yield* Effect.annotateCurrentSpan({ tenant: opts.tenant, chainLength: chain.length })
    if (chain.length > opts.maxDepth + 1) return yield* chainError("depth")
    if (!chain.every((t) => typeof t === "string" && t.length <= MAX_TOKEN_LENGTH)) {
      return yield* Effect.fail(new TokenInvalid({ reason: "malformed" }))
    }

    const hashes = chain.map(tokenHash)
    const cache = opts.cache as ChainCacheImpl | undefined
    const inChain = chain.length > 1
    const lineage = new LineageWalker(opts.maxDepth)
    const links: Array<TaskClaims> = []
    let cachedPrefix = 0
    for (let i = 0; i < chain.length; i++) {
      const prevHash = i === 0 ? undefined : hashes[i - 1]
      const hit =
        cache !== undefined && cachedPrefix === i
          ? cache.lookup(hashes[i]!, prevHash, (entry) => stillAcceptable(entry, opts))
          : undefined
      const fromCache = hit !== undefined
      const link = hit ?? (yield* verifyLink(chain[i], opts, inChain))
      const refused = bindingError(link.claims, opts) ?? lineage.next(link.claims, hashes[i]!)
      if (refused !== undefined) return yield* Effect.fail(refused)
      links.push(link.claims)
      if (fromCache) {
        cachedPrefix++
      } else if (cache !== undefined) {
        const claims = deepFreeze(link.claims)
        cache.insert(hashes[i]!, { claims, kid: link.kid, x: link.x, prevHash })
      }
    }
    const leaf = links[links.length - 1]!
    if (opts.audience !== undefined && leaf.aud !== opts.audience) {
      return yield* Effect.fail(new AudienceMismatch({ reason: "expected" }))
    }

    yield* checkRevocation(links, opts.isRevoked)
    yield* checkTimes(links, Math.floor(opts.now.getTime() / 1000), tolerance, opts.maxTokenAgeSec)
    return { claims: links, leaf, leafHash: hashes[hashes.length - 1]! }
  }).pipe(Effect.withSpan("Verifier.verifyChain", { captureStackTrace: false }))
