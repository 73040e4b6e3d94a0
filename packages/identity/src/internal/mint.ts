/**
 * Minting helpers of the token service: fresh `jti`s, compact EdDSA signing of task tokens with
 * node:crypto (RFC 7515 §7.1, RFC 8037 §3.1), the unverified tenant a parent token names, and agent
 * SPIFFE IDs, all without per-call Effect or jose overhead.
 *
 * @internal
 */
import { type KeyObject, randomBytes, sign as signEd25519 } from "node:crypto"
import { decodeJwt } from "jose"
import { type TaskClaims, TOKEN_ALG, TOKEN_TYPE } from "../Claims.js"
import { isValidName, isValidTenantId, isValidTrustDomain } from "../SpiffeId.js"
import { MAX_TOKEN_LENGTH } from "./link.js"
import { memoize, spiffePartsOf } from "./memo.js"

const JTI_BYTES = 16
const jtiPool = { bytes: Buffer.alloc(0), offset: 0 }

/** 128 fresh CSPRNG bits, base64url; drawn from a pool refilled 256 ids at a time, never reused. */
export const newJti = (): string => {
  if (jtiPool.offset + JTI_BYTES > jtiPool.bytes.length) {
    jtiPool.bytes = randomBytes(JTI_BYTES * 256)
    jtiPool.offset = 0
  }
  const start = jtiPool.offset
  jtiPool.offset += JTI_BYTES
  return jtiPool.bytes.toString("base64url", start, start + JTI_BYTES)
}

/**
 * The SPIFFE ID URI and trust domain of `agent` in `tenant` under `trustDomain` when all are valid
 * (same rules as `makeAgentSpiffeId`), else `undefined`.
 */
export const agentIdentity = (
  trustDomain: string,
  tenant: string,
  agent: string
): { readonly uri: string; readonly trustDomain: string } | undefined => {
  if (!isValidTrustDomain(trustDomain) || !isValidTenantId(tenant) || !isValidName(agent)) return undefined
  const uri = `spiffe://${trustDomain}/tenant/${tenant}/agent/${agent}`
  const parts = spiffePartsOf(uri)
  return parts === undefined ? undefined : { uri, trustDomain: parts.trustDomain }
}

/** Base64url of the protected header `{ alg: "EdDSA", typ, kid }`, per `typ` and `kid`. */
const encodedHeader = memoize(1024, (typAndKid) => {
  const cut = typAndKid.indexOf("\n")
  const typ = typAndKid.slice(0, cut)
  const kid = typAndKid.slice(cut + 1)
  return Buffer.from(JSON.stringify({ alg: TOKEN_ALG, typ, kid }), "utf8").toString("base64url")
})

/**
 * Compact JWS (RFC 7515 §7.1) of `claims` under the tenant's Ed25519 key: EdDSA over the ASCII
 * `base64url(header).base64url(payload)` (RFC 8037 §3.1), header exactly `{ alg, typ, kid }`;
 * `typ` is the task-token type unless another token kind (a per-call token) is signed.
 */
export const signCompact = (
  claims: TaskClaims | object,
  kid: string,
  key: KeyObject,
  typ: string = TOKEN_TYPE
): string => {
  const input = `${encodedHeader(`${typ}\n${kid}`)}.${Buffer.from(JSON.stringify(claims), "utf8").toString("base64url")}`
  return `${input}.${signEd25519(null, Buffer.from(input, "ascii"), key).toString("base64url")}`
}

/**
 * The `tnt` a compact token names, unverified (only used to pick keys): the tenant, or the
 * `TokenInvalid` reason when the token does not decode (`malformed`) or names no valid tenant
 * (`claims`). Memoised per token: a parent chain is often exchanged more than once.
 */
const decodeTenant = (token: string): { readonly tenant: string } | "malformed" | "claims" => {
  let tnt: unknown
  try {
    tnt = decodeJwt(token).tnt
  } catch {
    return "malformed"
  }
  return typeof tnt === "string" && isValidTenantId(tnt) ? { tenant: tnt } : "claims"
}
const decodeTenantMemo = memoize(1024, decodeTenant)
export const namedTenant = (token: string) =>
  token.length <= MAX_TOKEN_LENGTH ? decodeTenantMemo(token) : decodeTenant(token)
