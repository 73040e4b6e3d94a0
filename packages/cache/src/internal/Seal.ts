/**
 * Sealing of stored values: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV per value, stored
 * as one blob `iv (12 bytes) | ciphertext | tag (16 bytes)`. The additional authenticated data is
 * `cordon-cache|<tenant>|<session>|<namespace>|<entry key>` (UTF-8), so a value moved to another
 * session, namespace or entry key does not open.
 *
 * @internal
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { CacheError } from "../Errors.js"

/** Length of an AES-256 key in bytes. */
export const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
/** Bytes a sealed value adds to its plaintext. */
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES

/** Where a sealed value belongs: a table, or `cache_info` for the key check. */
export type Namespace = "summaries" | "embeddings" | "documents" | "cache_info"

/** `true` for a 32-byte `Uint8Array` (a `Buffer` qualifies). */
export const isDataKey = (key: unknown): key is Uint8Array =>
  key instanceof Uint8Array && key.byteLength === KEY_BYTES

/** Seals and opens the values of one session with its data key. */
export interface Sealer {
  readonly seal: (namespace: Namespace, key: string, plaintext: Uint8Array) => Buffer
  /** Fails with `CacheError` reason `corrupt` when the blob does not authenticate. */
  readonly open: (namespace: Namespace, key: string, blob: Uint8Array) => Effect.Effect<Buffer, CacheError>
  /** Overwrites the sealer's copy of the key with zeros; later calls fail or give garbage. */
  readonly wipe: () => void
}

/** A sealer over a private copy of `dataKey` (must satisfy {@link isDataKey}). */
export const makeSealer = (dataKey: Uint8Array, tenant: string, session: string): Sealer => {
  const key = Buffer.from(dataKey)
  const aad = (namespace: Namespace, entry: string) =>
    Buffer.from(`cordon-cache|${tenant}|${session}|${namespace}|${entry}`, "utf8")
  return {
    seal: (namespace, entry, plaintext) => {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad(namespace, entry))
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return Buffer.concat([iv, body, cipher.getAuthTag()])
    },
    open: (namespace, entry, blob) =>
      Effect.try({
        try: () => {
          if (blob.byteLength < SEAL_OVERHEAD) throw new Error("sealed value too short")
          const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
          const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES), {
            authTagLength: TAG_BYTES
          })
          decipher.setAAD(aad(namespace, entry))
          decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES))
          return Buffer.concat([
            decipher.update(bytes.subarray(IV_BYTES, bytes.byteLength - TAG_BYTES)),
            decipher.final()
          ])
        },
        catch: () => new CacheError({ reason: "corrupt" })
      }),
    wipe: () => {
      key.fill(0)
    }
  }
}
