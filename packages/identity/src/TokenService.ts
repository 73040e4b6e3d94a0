/**
 * Broker-side minting of task tokens and token exchange (RFC 8693 semantics over Cordon's own
 * signed chain). Tokens are signed with the tenant's Ed25519 key from {@link KeyRing}; time comes
 * from Effect's `Clock` (so tests drive it with `TestClock`).
 *
 * @module
 */
import { KeyObject } from "node:crypto"
import { Clock, Context, Effect, Either, Layer, Schema } from "effect"
import { IntentName, type TaskClaims, TaskId, tenantIssuer, UserId } from "./Claims.js"
import { CALL_TOKEN_TYPE, type CallClaims } from "./CallToken.js"
import { IdentityConfigError } from "./IdentityConfigError.js"
import { callClaims } from "./internal/callClaims.js"
import { checkScopes, childClaims, validTtl } from "./internal/childClaims.js"
import { namedTenant, newJti, signCompact } from "./internal/mint.js"
import { type Jwks, KeyRing, type KeyRingError } from "./KeyRing.js"
import { RevocationList } from "./RevocationList.js"
import { isValidTenantId, makeAgentSpiffeId } from "./SpiffeId.js"
import {
  type ScopeEscalation,
  TenantMismatch,
  type TokenError,
  TokenInvalid,
  TokenPolicyError
} from "./TokenError.js"
import { makeVerifiedChainCache, validateClockTolerance, verifyChain } from "./Verifier.js"

/** Request to mint a root task token for the first agent of a task. */
export interface MintRootRequest {
  readonly tenant: string
  readonly session: string
  /** The human user the session acts for (`usr`). */
  readonly user: string
  /** Root task id (`txn`). */
  readonly txn: string
  /** Agent name; the token's `sub` and `aud` are its SPIFFE ID. */
  readonly agent: string
  readonly intent: string
  readonly scopes: ReadonlyArray<string>
  /** Requested lifetime in seconds, a positive integer ≤ the service maximum. */
  readonly ttlSeconds: number
  /** Session end, in epoch seconds; `exp` never passes it. */
  readonly notAfter: number
  readonly trustDomain: string
}

/** Request to exchange the presenting agent's chain for a token issued to `toAgent`. */
export interface ExchangeRequest {
  /** The parent's full chain, root first; its last link is the parent token. */
  readonly chain: ReadonlyArray<string>
  /** Target agent name. */
  readonly toAgent: string
  /** Must equal the parent's intent in this version. */
  readonly intent: string
  readonly requestedScopes: ReadonlyArray<string>
  /** Every scope the target agent may ever hold. */
  readonly allowedScopes: ReadonlyArray<string>
  /** Requested lifetime in seconds; `exp` is capped at the parent's `exp`. */
  readonly ttlSeconds: number
  readonly maxDepth: number
  readonly trustDomain: string
  /**
   * The caller's tenant as the broker knows it. When given, the chain must belong to it
   * (`TenantMismatch(tnt)` when the parent token names another tenant); otherwise the tenant is
   * read from the parent token and then verified against that tenant's keys.
   */
  readonly tenant?: string
  /**
   * The caller's session as the broker knows it. When given, every link's `sid` must equal it
   * (`SessionBindingError`, threat IP-03).
   */
  readonly session?: string
}

/**
 * Request for a per-call tool token (see `CallToken`): the caller's chain is exchanged for a token
 * addressed to one tool, holding exactly that tool's required scopes, bound to one request.
 */
export interface CallTokenRequest {
  /** The caller's full chain, root first; its last link is the caller's own token. */
  readonly chain: ReadonlyArray<string>
  /** The tool's audience, `tool:<name>`. */
  readonly audience: string
  /** Every scope the tool requires (from the server-side tool registry). */
  readonly requiredScopes: ReadonlyArray<string>
  /** The scopes asked for; must equal `requiredScopes` (minimal scopes per call, threat TM-07). */
  readonly requestedScopes: ReadonlyArray<string>
  /** `requestBinding(tool, canonical args)`: 43 base64url characters. */
  readonly binding: string
  /** Requested lifetime in seconds; `exp` is capped at the caller's `exp`. */
  readonly ttlSeconds: number
  readonly maxDepth: number
  /** The caller's tenant as the broker knows it (`TenantMismatch` when the chain names another). */
  readonly tenant: string
  /** The caller's session as the broker knows it (`SessionBindingError` on any other `sid`). */
  readonly session?: string
}

/** A freshly signed call token and its claims. */
export interface MintedCallToken {
  readonly token: string
  readonly claims: CallClaims
}

/** A freshly signed token and its claims. */
export interface MintedToken {
  readonly token: string
  readonly claims: TaskClaims
}

/** Service options. */
export interface TokenServiceOptions {
  /** Base of issuer URLs (`<base>/tenant/<tenant>`); default `https://cordon.local`. */
  readonly issuerBase?: string
  /** Largest accepted `ttlSeconds`; default 300 (threat LS-01). */
  readonly maxTtlSeconds?: number
  /** Clock tolerance used when verifying parent chains, seconds, 0–30; default 5 (threat CS-01). */
  readonly clockToleranceSec?: number
  /** Bound of the verified-chain prefix cache used by `exchange`; default 10,000 links. */
  readonly chainCacheEntries?: number
}

/** The token service. */
export interface TokenServiceShape {
  /**
   * Mints a root token: `sub = aud = spiffe://<trustDomain>/tenant/<tenant>/agent/<agent>`, `dep` 0,
   * `iat = nbf = now`, `exp = min(now + ttlSeconds, notAfter)`, scopes sorted and de-duplicated.
   * Fails with `TokenPolicyError`: `wildcard` (a scope containing `*`), `scope_empty`,
   * `scope_invalid`, `ttl`, `identifier`, `intent`, `expired` (`exp ≤ now`); with `KeyRingError`
   * when the tenant's signing key cannot be obtained.
   */
  readonly mintRoot: (req: MintRootRequest) => Effect.Effect<MintedToken, TokenPolicyError | KeyRingError>
  /**
   * Token exchange (RFC 8693 §2): verifies the whole parent chain with the tenant's own JWKS and
   * the revocation list (any `TokenError`), then mints the child: `scp = requestedScopes`, which
   * must be ⊆ parent.scp ∩ allowedScopes (`ScopeEscalation`: `exceeds_parent`, `exceeds_allowed`,
   * `empty` when the intersection is empty), `exp = min(now + ttl, parent.exp)`, `nbf =
   * max(now, parent.nbf)`, same `tnt`/`sid`/`txn`/`usr`/`int`/`iss` (a different `intent` →
   * `TokenPolicyError(intent)`), `dep = parent.dep + 1 ≤ maxDepth` (`DelegationChainError(depth)`),
   * target not already in the chain (`cycle`), same trust domain (`binding`), `prev =
   * tokenHash(parent)`, `act = { sub: parent.sub, act: parent.act }`, `aud = sub = target`.
   * `req.tenant` / `req.session`, when given, bind the chain to the caller (`TenantMismatch`,
   * `SessionBindingError`). Nothing is signed unless every check passed. Parent chains are
   * verified through a prefix cache (expiry and revocation still checked every call).
   */
  readonly exchange: (
    req: ExchangeRequest
  ) => Effect.Effect<MintedToken, TokenError | ScopeEscalation | TokenPolicyError | KeyRingError>
  /**
   * Token exchange for one tool call: verifies the caller's chain like `exchange` (any
   * `TokenError`), then mints a `cordon-call+jwt` token with `sub`/`act`/`dep`/`tnt`/`sid`/`txn`/
   * `usr`/`int`/`iss` copied from the caller's token, `aud = req.audience`, `scp = requestedScopes`
   * which must be exactly `requiredScopes` (`TokenPolicyError`: `wildcard` for any `*`,
   * `scope_empty`, `scope_invalid`, `catalogue` for any other set) and ⊆ the caller's
   * (`ScopeEscalation(exceeds_parent)`), `rqb = req.binding`, `prev = tokenHash(caller)`,
   * `exp = min(now + ttl, caller.exp)` (`ttl`, `expired`; `identifier` for a malformed audience
   * or binding). Nothing is signed unless every check passed. Threats TM-07, RP-03, DS-04.
   */
  readonly exchangeForCall: (
    req: CallTokenRequest
  ) => Effect.Effect<MintedCallToken, TokenError | ScopeEscalation | TokenPolicyError | KeyRingError>
  /**
   * The tenant's published public JWKS; creates the tenant's first key if needed (valid tenant
   * ids only). A key-store failure is a defect here (the effect dies; nothing is published).
   */
  readonly jwks: (tenant: string) => Effect.Effect<Jwks>
  /** The tenant's issuer, `<issuerBase>/tenant/<tenant>`. */
  readonly issuer: (tenant: string) => string
}

/** Context tag of the token service. `TokenService.layer` needs `KeyRing` and `RevocationList`. */
export class TokenService extends Context.Tag("@cordon/identity/TokenService")<
  TokenService,
  TokenServiceShape
>() {
  /** Default options. */
  static readonly layer: Layer.Layer<TokenService, never, KeyRing | RevocationList> = Layer.effect(
    TokenService,
    Effect.suspend(() => Effect.orDie(make()))
  )
  /**
   * With options, validated when the layer is built: a clock tolerance outside 0–30 s, a maximum
   * TTL or cache bound that is not a positive integer fail with `IdentityConfigError` (`E_CONFIG`).
   */
  static readonly layerWith = (
    options: TokenServiceOptions
  ): Layer.Layer<TokenService, IdentityConfigError, KeyRing | RevocationList> =>
    Layer.effect(TokenService, make(options))
}

const policy = (reason: TokenPolicyError["reason"]) => Effect.fail(new TokenPolicyError({ reason }))
const isUser = Schema.is(UserId)
const isTask = Schema.is(TaskId)
const isIntent = Schema.is(IntentName)

/** Builds the token service from `KeyRing`, `RevocationList` and `Clock`; validates `options`. */
export const make = (options: TokenServiceOptions = {}) =>
  Effect.gen(function* () {
    const tolerance = yield* validateClockTolerance(options.clockToleranceSec)
    const maxTtl = options.maxTtlSeconds ?? 300
    if (!Number.isInteger(maxTtl) || maxTtl <= 0) {
      return yield* Effect.fail(new IdentityConfigError({ reason: "max_ttl" }))
    }
    const cache = yield* Effect.try({
      try: () => makeVerifiedChainCache({ maxEntries: options.chainCacheEntries ?? 10_000 }),
      catch: () => new IdentityConfigError({ reason: "bound" })
    })
    const keyRing = yield* KeyRing
    const revocations = yield* RevocationList
    const issuer = (tenant: string) => tenantIssuer(tenant, options.issuerBase)

    const checkTtl = (ttl: number) => (validTtl(ttl, maxTtl) ? Effect.void : policy("ttl"))

    const sign = (claims: TaskClaims) =>
      Effect.map(keyRing.signingKey(claims.tnt), ({ kid, key }) => {
        const keyObject = key instanceof KeyObject ? key : KeyObject.from(key)
        return { token: signCompact(claims, kid, keyObject), claims }
      })

    const mintRoot = (req: MintRootRequest) =>
      Effect.gen(function* () {
        yield* Effect.annotateCurrentSpan({ tenant: req.tenant, session: req.session, txn: req.txn })
        if (
          !isValidTenantId(req.tenant) ||
          !isValidTenantId(req.session) ||
          !isUser(req.user) ||
          !isTask(req.txn)
        ) {
          return yield* policy("identifier")
        }
        const agent = yield* Either.mapLeft(
          makeAgentSpiffeId(req.trustDomain, req.tenant, req.agent),
          () => new TokenPolicyError({ reason: "identifier" })
        )
        if (!isIntent(req.intent)) return yield* policy("intent")
        const scp = yield* checkScopes(req.scopes)
        yield* checkTtl(req.ttlSeconds)
        if (!Number.isFinite(req.notAfter)) return yield* policy("expired")
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const exp = Math.min(now + req.ttlSeconds, Math.floor(req.notAfter))
        if (exp <= now) return yield* policy("expired")
        const claims: TaskClaims = {
          iss: issuer(req.tenant),
          sub: agent.uri,
          aud: agent.uri,
          tnt: req.tenant,
          sid: req.session,
          usr: req.user,
          txn: req.txn,
          int: req.intent,
          scp: scp as TaskClaims["scp"],
          iat: now,
          nbf: now,
          exp,
          jti: newJti(),
          dep: 0
        }
        return yield* sign(claims)
      }).pipe(Effect.withSpan("TokenService.mintRoot", { captureStackTrace: false }))

    /**
     * The tenant whose keys verify the chain: the caller's when known, else the one the parent
     * token names. The unverified `tnt` only picks the keys (or the error), it never authorises.
     */
    const chainTenant = (req: {
      readonly chain: ReadonlyArray<string>
      readonly tenant?: string
    }): Either.Either<string, TokenInvalid | TenantMismatch> => {
      const last = req.chain[req.chain.length - 1]
      const named = namedTenant(typeof last === "string" ? last : "")
      if (req.tenant === undefined) {
        return typeof named === "string"
          ? Either.left(new TokenInvalid({ reason: named }))
          : Either.right(named.tenant)
      }
      return typeof named === "string" || named.tenant === req.tenant
        ? Either.right(req.tenant)
        : Either.left(new TenantMismatch({ reason: "tnt" }))
    }

    /** Verifies a presented parent chain of `tenant` with its own JWKS; also returns `now` (seconds). */
    const verifyParent = (
      req: { readonly chain: ReadonlyArray<string>; readonly maxDepth: number; readonly session?: string },
      tenant: string
    ) =>
      Effect.gen(function* () {
        yield* Effect.annotateCurrentSpan({ tenant, depth: req.chain.length })
        const nowMs = yield* Clock.currentTimeMillis
        const verified = yield* verifyChain(req.chain, {
          tenant,
          issuer: issuer(tenant),
          jwks: yield* keyRing.jwks(tenant),
          isRevoked: revocations.isRevoked,
          now: new Date(nowMs),
          clockToleranceSec: tolerance,
          maxDepth: req.maxDepth,
          cache,
          ...(req.session === undefined ? {} : { session: req.session })
        })
        yield* Effect.annotateCurrentSpan({ session: verified.leaf.sid, txn: verified.leaf.txn })
        return { verified, now: Math.floor(nowMs / 1000) }
      })

    const exchange = (req: ExchangeRequest) =>
      Effect.gen(function* () {
        const tenant = yield* chainTenant(req)
        const { verified, now } = yield* verifyParent(req, tenant)
        return yield* sign(yield* childClaims(req, tenant, verified, now, maxTtl))
      }).pipe(Effect.withSpan("TokenService.exchange", { captureStackTrace: false }))

    const exchangeForCall = (req: CallTokenRequest) =>
      Effect.gen(function* () {
        const tenant = yield* chainTenant(req)
        const { verified, now } = yield* verifyParent(req, tenant)
        const claims = yield* callClaims(req, verified, now, maxTtl)
        const { kid, key } = yield* keyRing.signingKey(claims.tnt)
        const keyObject = key instanceof KeyObject ? key : KeyObject.from(key)
        return { token: signCompact(claims, kid, keyObject, CALL_TOKEN_TYPE), claims }
      }).pipe(Effect.withSpan("TokenService.exchangeForCall", { captureStackTrace: false }))

    const jwks = (tenant: string): Effect.Effect<Jwks> =>
      isValidTenantId(tenant)
        ? Effect.orDie(Effect.zipRight(keyRing.signingKey(tenant), keyRing.jwks(tenant)))
        : Effect.succeed({ keys: [] })

    return TokenService.of({ mintRoot, exchange, exchangeForCall, jwks, issuer })
  })
