/**
 * Sealing of stored values: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV per value, stored
 * as one blob `iv (12 bytes) | ciphertext | tag (16 bytes)`. The additional authenticated data is
 * `cordon-cache|<tenant>|<session>|<namespace>|<entry key>` (UTF-8), so a value moved to another
 * session, namespace or entry key does not open. IVs are drawn from the CSPRNG in batches (one
 * `randomFillSync` per 256 values), never derived from a counter, so reopening a file with the same
 * key cannot repeat an IV.
 *
 * Task tags: `HMAC-SHA256(K_t, taskId)` truncated to 16 bytes, with `K_t = HKDF-SHA256(dataKey,
 * info "cordon-cache task-tag v1|<tenant>|<session>")` (RFC 5869, RFC 2104), so entries can be
 * found by task without storing the task id in clear text.
 *
 * @internal
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomFillSync } from "node:crypto"
import * as Effect from "effect/Effect"
import { CacheError } from "../Errors.js"

/** Length of an AES-256 key in bytes. */
export const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const IV_BATCH = 256
const TASK_TAG_BYTES = 16
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
  /** The 16-byte keyed tag of a task id, stored in clear to find the task's entries. */
  readonly taskTag: (taskId: string) => Buffer
  /** Overwrites the sealer's copy of the key with zeros; later calls fail or give garbage. */
  readonly wipe: () => void
}

/** A sealer over a private copy of `dataKey` (must satisfy {@link isDataKey}). */
export const makeSealer = (dataKey: Uint8Array, tenant: string, session: string): Sealer => {
  const key = Buffer.from(dataKey)
  const tagKey = Buffer.from(
    hkdfSync("sha256", key, Buffer.alloc(0), `cordon-cache task-tag v1|${tenant}|${session}`, 32)
  )
  const ivs = Buffer.alloc(IV_BYTES * IV_BATCH)
  let nextIv = IV_BATCH
  const prefix = `cordon-cache|${tenant}|${session}|`
  const aad = (namespace: Namespace, entry: string) => Buffer.from(`${prefix}${namespace}|${entry}`, "utf8")
  return {
    seal: (namespace, entry, plaintext) => {
      if (nextIv === IV_BATCH) {
        randomFillSync(ivs)
        nextIv = 0
      }
      const out = Buffer.allocUnsafe(IV_BYTES + plaintext.byteLength + TAG_BYTES)
      const start = nextIv++ * IV_BYTES
      ivs.copy(out, 0, start, start + IV_BYTES)
      // GCM's default tag is 16 bytes (TAG_BYTES); decryption pins the length explicitly
      const cipher = createCipheriv("aes-256-gcm", key, out.subarray(0, IV_BYTES))
      cipher.setAAD(aad(namespace, entry))
      let at = IV_BYTES + cipher.update(plaintext).copy(out, IV_BYTES)
      at += cipher.final().copy(out, at)
      cipher.getAuthTag().copy(out, at)
      return out
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
    taskTag: (taskId) =>
      createHmac("sha256", tagKey).update(taskId, "utf8").digest().subarray(0, TASK_TAG_BYTES),
    wipe: () => {
      key.fill(0)
      tagKey.fill(0)
      ivs.fill(0)
      nextIv = IV_BATCH
    }
  }
}
