/**
 * Wrapping of Ed25519 private keys under the master key: AES-256-GCM (NIST SP 800-38D) with a
 * random 96-bit IV and AAD `cordon-key|<tenant>|<kid>`, so a wrapped key copied to another tenant
 * or `kid` fails to unwrap. Output: base64url of `iv | ciphertext | tag`.
 *
 * @internal
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes
} from "node:crypto"

const IV_BYTES = 12
const TAG_BYTES = 16

const aad = (tenant: string, kid: string): Buffer => Buffer.from(`cordon-key|${tenant}|${kid}`, "utf8")

/** RFC 7638 thumbprint (SHA-256, base64url) of an Ed25519 public key given by its `x`. */
export const ed25519Thumbprint = (x: string): string =>
  createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`, "utf8").digest("base64url")

/** The base64url `x` of an Ed25519 key's public part. */
export const publicX = (key: KeyObject): string => {
  const jwk = (key.type === "private" ? createPublicKey(key) : key).export({ format: "jwk" })
  return jwk.x as string
}

/** Wraps `privateKey` (exported as PKCS#8 DER) for `(tenant, kid)`. */
export const wrapPrivateKey = (
  master: Uint8Array,
  tenant: string,
  kid: string,
  privateKey: KeyObject
): string => {
  const plain = privateKey.export({ format: "der", type: "pkcs8" })
  try {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv("aes-256-gcm", master, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(aad(tenant, kid))
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")
  } finally {
    plain.fill(0)
  }
}

/**
 * Unwraps a key wrapped for `(tenant, kid)` and checks that it is an Ed25519 private key whose
 * public thumbprint is `kid`. Returns `undefined` on any failure (wrong master key, wrong tenant
 * or `kid`, tampered bytes, wrong key type).
 */
export const unwrapPrivateKey = (
  master: Uint8Array,
  tenant: string,
  kid: string,
  wrapped: string
): KeyObject | undefined => {
  if (typeof wrapped !== "string" || !/^[A-Za-z0-9_-]+$/.test(wrapped)) return undefined
  const bytes = Buffer.from(wrapped, "base64url")
  if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined
  let plain: Buffer | undefined
  try {
    const decipher = createDecipheriv("aes-256-gcm", master, bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES
    })
    decipher.setAAD(aad(tenant, kid))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    plain = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final()
    ])
    const key = createPrivateKey({ key: plain, format: "der", type: "pkcs8" })
    if (key.asymmetricKeyType !== "ed25519") return undefined
    return ed25519Thumbprint(publicX(key)) === kid ? key : undefined
  } catch {
    return undefined
  } finally {
    plain?.fill(0)
  }
}
