/**
 * A tenant's keys in memory and their lifecycle arithmetic (active, retired, published), plus
 * generating and unwrapping one key.
 *
 * @internal
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto"
import type { JWK } from "jose"
import { TOKEN_ALG } from "../Claims.js"
import type { StoredKeyRecord } from "../KeyStore.js"
import { ed25519Thumbprint, publicX, unwrapPrivateKey, wrapPrivateKey } from "./wrap.js"

/** A usable key: its persisted record, private key and public JWK. */
export interface LiveKey {
  readonly record: StoredKeyRecord
  readonly privateKey: KeyObject
  readonly publicJwk: JWK
}

/** A tenant's keys ordered by activation; the last unretired one signs. */
export type TenantKeys = ReadonlyArray<LiveKey>

const publicJwkOf = (kid: string, privateKey: KeyObject): JWK =>
  Object.freeze({ kty: "OKP", crv: "Ed25519", x: publicX(privateKey), kid, alg: TOKEN_ALG, use: "sig" })

/** The signing key: the last key not retired. */
export const activeOf = (keys: TenantKeys): LiveKey | undefined => {
  for (let i = keys.length - 1; i >= 0; i--) {
    if (keys[i]!.record.retiredAt === null) return keys[i]
  }
  return undefined
}

/**
 * When `keys[i]` stopped signing: its own `retiredAt`, else its successor's activation (covers a
 * rotation interrupted between saving the new key and retiring the old one).
 */
export const effectiveRetiredAt = (keys: TenantKeys, i: number): number | null => {
  const own = keys[i]!.record.retiredAt
  if (own !== null) return own
  return i < keys.length - 1 ? keys[i + 1]!.record.activatedAt : null
}

/** Whether `keys[i]` is in the JWKS at `nowMs`: not compromised, and signing or retired ≤ overlap ago. */
export const isPublishedAt = (keys: TenantKeys, i: number, nowMs: number, overlapMs: number): boolean => {
  if (keys[i]!.record.compromised) return false
  const retiredAt = effectiveRetiredAt(keys, i)
  return retiredAt === null || nowMs <= retiredAt + overlapMs
}

/** A fresh Ed25519 key for `tenant` (`kid` = RFC 7638 thumbprint), wrapped under `master`. */
export const generateLiveKey = (
  master: Uint8Array,
  tenant: string,
  createdAt: number,
  activatedAt: number
): LiveKey => {
  const { privateKey } = generateKeyPairSync("ed25519")
  const kid = ed25519Thumbprint(publicX(privateKey))
  const record: StoredKeyRecord = {
    tenant,
    kid,
    createdAt,
    activatedAt,
    retiredAt: null,
    compromised: false,
    wrapped: wrapPrivateKey(master, tenant, kid, privateKey)
  }
  return { record, privateKey, publicJwk: publicJwkOf(kid, privateKey) }
}

/** The key a record holds, or `undefined` when it does not unwrap for its tenant and `kid`. */
export const unwrapRecord = (master: Uint8Array, record: StoredKeyRecord): LiveKey | undefined => {
  const privateKey = unwrapPrivateKey(master, record.tenant, record.kid, record.wrapped)
  return privateKey === undefined
    ? undefined
    : { record, privateKey, publicJwk: publicJwkOf(record.kid, privateKey) }
}
