/**
 * Verification of one compact task token: size and shape, protected header, EdDSA signature
 * against a local JWKS, and the claim profile. Chain-level rules live in `Verifier.ts`.
 *
 * @internal
 */
import { base64url, compactVerify, createLocalJWKSet, type JWK } from "jose"
import { Effect, Either } from "effect"
import { decodeTaskClaims, type TaskClaims, TOKEN_ALG, TOKEN_TYPE } from "../Claims.js"
import type { Jwks } from "../KeyRing.js"
import { parseSpiffeId } from "../SpiffeId.js"
import {
  AudienceMismatch,
  DelegationChainError,
  TenantMismatch,
  type TokenError,
  TokenInvalid
} from "../TokenError.js"

/** Maximum length of one compact token, in characters (= bytes: compact JWS is ASCII). */
export const MAX_TOKEN_LENGTH = 8192
const MAX_KID_LENGTH = 256
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/
const ALLOWED_HEADER = new Set(["alg", "typ", "kid"])
const utf8 = new TextDecoder("utf-8", { fatal: true })

type KeyResolver = ReturnType<typeof createLocalJWKSet>
const resolvers = new WeakMap<Jwks, KeyResolver>()

/** Only public Ed25519 signing keys with a `kid` are ever used, whatever else the set holds. */
const isPublicEd25519 = (k: JWK): boolean =>
  k.kty === "OKP" &&
  k.crv === "Ed25519" &&
  typeof k.x === "string" &&
  typeof k.kid === "string" &&
  k.kid.length > 0 &&
  k.d === undefined &&
  (k.alg === undefined || k.alg === TOKEN_ALG) &&
  (k.use === undefined || k.use === "sig")

/** A key resolver over `jwks`, cached per JWKS object (keys are chosen only by `kid`). */
export const resolverFor = (jwks: Jwks): KeyResolver => {
  const cached = resolvers.get(jwks)
  if (cached !== undefined) return cached
  const resolver = createLocalJWKSet({ keys: jwks.keys.filter(isPublicEd25519).map((k) => ({ ...k })) })
  resolvers.set(jwks, resolver)
  return resolver
}

const invalid = (reason: TokenInvalid["reason"]) => Effect.fail(new TokenInvalid({ reason }))

const parseJson = (segment: string): unknown => JSON.parse(utf8.decode(base64url.decode(segment)))

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Header rules (RFC 8725 §3.1, §3.11): `alg` pinned, only `alg`/`typ`/`kid`, `typ` pinned, `kid` required. */
const checkHeader = (header: unknown): Effect.Effect<void, TokenInvalid> => {
  if (!isRecord(header)) return invalid("malformed")
  if (header.alg !== TOKEN_ALG) return invalid("alg")
  for (const key of Object.keys(header)) {
    if (!ALLOWED_HEADER.has(key)) return invalid("header")
  }
  if (header.typ !== TOKEN_TYPE) return invalid("typ")
  const kid = header.kid
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH) return invalid("kid")
  return Effect.void
}

const signatureError = (cause: unknown, inChain: boolean): TokenError => {
  const code = isRecord(cause) && typeof cause.code === "string" ? cause.code : ""
  switch (code) {
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
    case "ERR_JWKS_INVALID":
    case "ERR_JWK_INVALID":
      return new TokenInvalid({ reason: "kid" })
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return new TokenInvalid({ reason: "alg" })
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return inChain
        ? new DelegationChainError({ reason: "bad_signature" })
        : new TokenInvalid({ reason: "signature" })
    default:
      return new TokenInvalid({ reason: "malformed" })
  }
}

/**
 * Verifies one compact token and decodes its claims.
 *
 * @param inChain whether the token is one link of a multi-link chain (a bad signature is then
 *   `DelegationChainError(bad_signature)` instead of `TokenInvalid(signature)`).
 */
export const verifyLink = (
  compact: unknown,
  opts: { readonly tenant: string; readonly issuer: string; readonly jwks: Jwks },
  inChain: boolean
): Effect.Effect<TaskClaims, TokenError> =>
  Effect.gen(function* () {
    if (typeof compact !== "string" || compact.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(compact)) {
      return yield* invalid("malformed")
    }
    const [headerPart = "", payloadPart = "", signaturePart = ""] = compact.split(".")
    const header = yield* Effect.try({
      try: () => parseJson(headerPart),
      catch: () => new TokenInvalid({ reason: "malformed" })
    })
    yield* checkHeader(header)
    if (signaturePart.length === 0 || payloadPart.length === 0) return yield* invalid("malformed")

    const resolver = resolverFor(opts.jwks)
    const verified = yield* Effect.tryPromise({
      try: () => compactVerify(compact, resolver, { algorithms: [TOKEN_ALG] }),
      catch: (cause) => signatureError(cause, inChain)
    })
    if (verified.protectedHeader.alg !== TOKEN_ALG) return yield* invalid("alg")

    const payload = yield* Effect.try({
      try: () => JSON.parse(utf8.decode(verified.payload)) as unknown,
      catch: () => new TokenInvalid({ reason: "claims" })
    })
    const claims = yield* Either.mapLeft(
      decodeTaskClaims(payload),
      () => new TokenInvalid({ reason: "claims" })
    )

    if (claims.tnt !== opts.tenant) return yield* Effect.fail(new TenantMismatch({ reason: "tnt" }))
    const sub = parseSpiffeId(claims.sub)
    if (Either.isLeft(sub) || sub.right.tenant !== claims.tnt) {
      return yield* Effect.fail(new TenantMismatch({ reason: "sub" }))
    }
    if (claims.iss !== opts.issuer) return yield* invalid("claims")
    if (claims.aud !== claims.sub) return yield* Effect.fail(new AudienceMismatch({ reason: "holder" }))
    if (claims.nbf >= claims.exp || claims.iat > claims.exp) return yield* invalid("claims")
    return claims
  })
