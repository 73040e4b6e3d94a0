/**
 * Verification of one compact task token: size and shape, protected header, EdDSA signature
 * against a local JWKS, and the claim profile. Chain-level rules live in `Verifier.ts`.
 *
 * The header is pinned before any key is touched (exactly `alg: "EdDSA"`, `typ`, `kid`; RFC 8725
 * §3.1, §3.11), the key is chosen only from the caller's JWKS by `kid`, and the Ed25519 signature
 * (RFC 8032, RFC 8037) is checked with node:crypto over the ASCII signing input (RFC 7515 §5.2).
 * Synchronous: no await between the checks.
 *
 * @internal
 */
import { type KeyObject, verify } from "node:crypto"
import type { JWK } from "jose"
import { Either } from "effect"
import { type TaskClaims, TOKEN_ALG, TOKEN_TYPE } from "../Claims.js"
import type { Jwks } from "../KeyRing.js"
import {
  AudienceMismatch,
  DelegationChainError,
  TenantMismatch,
  type TokenError,
  TokenInvalid
} from "../TokenError.js"
import { checkTaskClaims } from "./claimsCheck.js"
import { ed25519PublicKey, spiffePartsOf } from "./memo.js"

/** Maximum length of one compact token, in characters (= bytes: compact JWS is ASCII). */
export const MAX_TOKEN_LENGTH = 8192
const MAX_KID_LENGTH = 256
const ED25519_SIGNATURE_BYTES = 64
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/
const ALLOWED_HEADER = new Set(["alg", "typ", "kid"])
const utf8 = new TextDecoder("utf-8", { fatal: true })

interface UsableKey {
  readonly x: string
  readonly key: KeyObject
}
interface JwksView {
  /** `kid` → key, for every usable key whose `kid` is unique in the set. */
  readonly byKid: ReadonlyMap<string, UsableKey>
}
const views = new WeakMap<Jwks, JwksView>()

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

/**
 * The usable keys of `jwks` by `kid`, cached per JWKS object (imported keys are also memoised by
 * `x`, so a fresh copy of the same set costs no import). Keys are chosen only by `kid`; a `kid`
 * that several keys share resolves to nothing.
 */
export const viewOf = (jwks: Jwks): JwksView => {
  const cached = views.get(jwks)
  if (cached !== undefined) return cached
  const usable = jwks.keys.filter(isPublicEd25519)
  const counts = new Map<string, number>()
  for (const k of usable) counts.set(k.kid!, (counts.get(k.kid!) ?? 0) + 1)
  const byKid = new Map<string, UsableKey>()
  for (const k of usable) {
    const key = counts.get(k.kid!) === 1 ? ed25519PublicKey(k.x!) : undefined
    if (key !== undefined) byKid.set(k.kid!, { x: k.x!, key })
  }
  const view = { byKid }
  views.set(jwks, view)
  return view
}

const invalid = (reason: TokenInvalid["reason"]) => Either.left(new TokenInvalid({ reason }))

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Base64url characters whose low 2 (resp. 4) bits are zero. */
const LOW2_ZERO = /[AEIMQUYcgkosw048]$/
const LOW4_ZERO = /[AQgw]$/

/**
 * Whether a base64url segment (no padding) is the canonical encoding of its bytes: a length that
 * is not 1 mod 4 and zero unused bits in the last character. Decoders ignore those bits, so
 * without this check one token would have several textual forms (and several hashes).
 */
export const isCanonicalBase64url = (segment: string): boolean => {
  switch (segment.length % 4) {
    case 0:
      return true
    case 2:
      return LOW4_ZERO.test(segment)
    case 3:
      return LOW2_ZERO.test(segment)
    default:
      return false
  }
}

const parseJson = (segment: string): unknown => {
  try {
    return JSON.parse(utf8.decode(Buffer.from(segment, "base64url")))
  } catch {
    return undefined
  }
}

/**
 * Header rules (RFC 8725 §3.1, §3.11): `alg` pinned, only `alg`/`typ`/`kid`, `typ` pinned to the
 * token kind being verified, `kid` required.
 */
const checkHeaderJson = (header: unknown, typ: string): Either.Either<string, TokenInvalid> => {
  if (!isRecord(header)) return invalid("malformed")
  if (header.alg !== TOKEN_ALG) return invalid("alg")
  for (const key of Object.keys(header)) {
    if (!ALLOWED_HEADER.has(key)) return invalid("header")
  }
  if (header.typ !== typ) return invalid("typ")
  const kid = header.kid
  if (typeof kid !== "string" || kid.length === 0 || kid.length > MAX_KID_LENGTH) return invalid("kid")
  return Either.right(kid)
}

/** Accepted header segments with their `kid`, per token kind (`typ`): kinds never share an entry. */
const acceptedHeaders = new Map<string, Map<string, string>>()

/** {@link checkHeaderJson} of a header segment; accepted ones are memoised with their `kid`. */
const checkHeader = (segment: string, typ: string): Either.Either<string, TokenInvalid> => {
  let accepted = acceptedHeaders.get(typ)
  if (accepted === undefined) {
    accepted = new Map()
    acceptedHeaders.set(typ, accepted)
  }
  const known = accepted.get(segment)
  if (known !== undefined) return Either.right(known)
  const kid = checkHeaderJson(parseJson(segment), typ)
  if (Either.isRight(kid)) {
    if (accepted.size >= 256) accepted.clear()
    accepted.set(segment, kid.right)
  }
  return kid
}

const verifySignature = (signingInput: string, signature: string, key: KeyObject): boolean => {
  const bytes = Buffer.from(signature, "base64url")
  if (bytes.length !== ED25519_SIGNATURE_BYTES) return false
  try {
    return verify(null, Buffer.from(signingInput, "ascii"), key, bytes)
  } catch {
    return false
  }
}

/** A verified link: its claims and the key (`kid`, `x`) its signature verified under. */
export interface VerifiedLink {
  readonly claims: TaskClaims
  readonly kid: string
  readonly x: string
}

/** Whether `link` (verified before) still passes the option-dependent per-link checks. */
export const stillAcceptable = (
  link: VerifiedLink,
  opts: { readonly tenant: string; readonly issuer: string; readonly jwks: Jwks }
): boolean =>
  link.claims.tnt === opts.tenant &&
  link.claims.iss === opts.issuer &&
  viewOf(opts.jwks).byKid.get(link.kid)?.x === link.x

/** A compact JWS whose header and signature verified: its decoded payload (unchecked) and key. */
export interface SignedPayload {
  readonly payload: unknown
  readonly kid: string
  readonly x: string
}

/**
 * The kind-independent half of token verification: size and compact shape (canonical
 * base64url), the header pinned to `typ` (RFC 8725 §3.11: each token kind is verified by its own
 * rules, so a token of one kind never passes as another), the key chosen by `kid` from `jwks` only,
 * and the Ed25519 signature. The payload is parsed JSON, not yet checked against any profile.
 */
export const verifyCompact = (
  compact: unknown,
  jwks: Jwks,
  typ: string,
  inChain: boolean
): Either.Either<SignedPayload, TokenError> => {
  if (typeof compact !== "string" || compact.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(compact)) {
    return invalid("malformed")
  }
  const [headerPart = "", payloadPart = "", signaturePart = ""] = compact.split(".")
  if (![headerPart, payloadPart, signaturePart].every(isCanonicalBase64url)) return invalid("malformed")
  const kid = checkHeader(headerPart, typ)
  if (Either.isLeft(kid)) return Either.left(kid.left)
  if (signaturePart.length === 0 || payloadPart.length === 0) return invalid("malformed")

  const key = viewOf(jwks).byKid.get(kid.right)
  if (key === undefined) return invalid("kid")
  if (!verifySignature(`${headerPart}.${payloadPart}`, signaturePart, key.key)) {
    return Either.left(
      inChain
        ? new DelegationChainError({ reason: "bad_signature" })
        : new TokenInvalid({ reason: "signature" })
    )
  }
  return Either.right({ payload: parseJson(payloadPart), kid: kid.right, x: key.x })
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
): Either.Either<VerifiedLink, TokenError> => {
  const signed = verifyCompact(compact, opts.jwks, TOKEN_TYPE, inChain)
  if (Either.isLeft(signed)) return Either.left(signed.left)
  const { payload, kid, x } = signed.right
  const claims = checkTaskClaims(payload)
  if (claims === undefined) return invalid("claims")
  if (claims.tnt !== opts.tenant) return Either.left(new TenantMismatch({ reason: "tnt" }))
  if (spiffePartsOf(claims.sub)?.tenant !== claims.tnt) {
    return Either.left(new TenantMismatch({ reason: "sub" }))
  }
  if (claims.iss !== opts.issuer) return invalid("claims")
  if (claims.aud !== claims.sub) return Either.left(new AudienceMismatch({ reason: "holder" }))
  if (claims.nbf >= claims.exp || claims.iat > claims.exp) return invalid("claims")
  return Either.right({ claims, kid, x })
}
