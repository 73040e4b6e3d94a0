/**
 * Where the key ring persists its keys. Records are plain data (no identity types), so the
 * control-plane store can keep them in one table and the runtime can adapt it to this interface
 * without the store importing identity. Private keys are only ever stored wrapped (see
 * `MasterKey`); the store never sees key material in the clear.
 *
 * @module
 */
import { Context, Effect, Layer, Schema, SynchronizedRef } from "effect"

/**
 * One signing key of one tenant, as persisted. Times are epoch milliseconds.
 *
 * - `createdAt`: when the key was generated; `activatedAt`: when it became the signing key.
 * - `retiredAt`: when it stopped signing (superseded by a rotation or retired), `null` while it
 *   signs. A retired key stays published for the rotation overlap unless `compromised`.
 * - `compromised`: withdrawn from the JWKS at once; tokens under it no longer verify.
 * - `wrapped`: base64url of `iv (12 bytes) | AES-256-GCM ciphertext of the PKCS#8 DER private key |
 *   tag (16 bytes)`, with AAD `cordon-key|<tenant>|<kid>`.
 */
export interface StoredKeyRecord {
  readonly tenant: string
  readonly kid: string
  readonly createdAt: number
  readonly activatedAt: number
  readonly retiredAt: number | null
  readonly compromised: boolean
  readonly wrapped: string
}

/**
 * The key store failed: it could not be reached or answered with an error (`unavailable`), a
 * record with the same tenant and `kid` already exists (`conflict`), or the record to update does
 * not exist (`not_found`). `code` is always `E_KEY_STORE`; no key material is ever included.
 */
export class KeyStoreError extends Schema.TaggedError<KeyStoreError>()("KeyStoreError", {
  code: Schema.Literal("E_KEY_STORE").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_KEY_STORE" as const)
  ),
  reason: Schema.Literal("unavailable", "conflict", "not_found")
}) {}

/** The key-store service. */
export interface KeyStoreService {
  /** Every record of `tenant` (any order; the key ring orders them by `activatedAt`). */
  readonly load: (tenant: string) => Effect.Effect<ReadonlyArray<StoredKeyRecord>, KeyStoreError>
  /** Inserts a new record; fails with `conflict` when `(tenant, kid)` exists. */
  readonly save: (record: StoredKeyRecord) => Effect.Effect<void, KeyStoreError>
  /**
   * Replaces the record `(tenant, kid)`; the key ring only changes `retiredAt` and `compromised`.
   * Fails with `not_found` when it does not exist.
   */
  readonly update: (record: StoredKeyRecord) => Effect.Effect<void, KeyStoreError>
}

const recordKey = (tenant: string, kid: string) => `${tenant}\u0000${kid}`

/** An in-memory key store (records live as long as the service). */
export const makeMemory: Effect.Effect<KeyStoreService> = Effect.map(
  SynchronizedRef.make<ReadonlyMap<string, StoredKeyRecord>>(new Map()),
  (ref) =>
    KeyStore.of({
      load: (tenant) =>
        Effect.map(SynchronizedRef.get(ref), (map) =>
          Array.from(map.values()).filter((r) => r.tenant === tenant)
        ),
      save: (record) =>
        SynchronizedRef.modifyEffect(ref, (map) => {
          const key = recordKey(record.tenant, record.kid)
          if (map.has(key)) return Effect.fail(new KeyStoreError({ reason: "conflict" }))
          return Effect.succeed([undefined, new Map(map).set(key, { ...record })] as const)
        }),
      update: (record) =>
        SynchronizedRef.modifyEffect(ref, (map) => {
          const key = recordKey(record.tenant, record.kid)
          if (!map.has(key)) return Effect.fail(new KeyStoreError({ reason: "not_found" }))
          return Effect.succeed([undefined, new Map(map).set(key, { ...record })] as const)
        })
    })
)

/** Context tag of the key store. `KeyStore.layerMemory` keeps records in memory. */
export class KeyStore extends Context.Tag("@cordon/identity/KeyStore")<KeyStore, KeyStoreService>() {
  /** In-memory key store, empty at start. */
  static readonly layerMemory: Layer.Layer<KeyStore> = Layer.effect(KeyStore, makeMemory)
}
