/**
 * Per-tenant Ed25519 signing keys (RFC 8037) and their public JWKS (RFC 7517).
 *
 * Private keys never leave the broker: only {@link KeyRing} holds them, and {@link KeyRingService.jwks}
 * returns public members only. A tenant's key never signs another tenant's token, because keys are
 * looked up by tenant and each tenant has its own. This version keeps keys in memory; persistence
 * (wrapped private keys in the control-plane store) and scheduled rotation plug in behind the same
 * interface.
 *
 * @module
 */
import { generateKeyPairSync, type KeyObject, type webcrypto } from "node:crypto"
import { calculateJwkThumbprint, type JWK } from "jose"
import { Context, Effect, Layer, Option, SynchronizedRef } from "effect"
import { TOKEN_ALG } from "./Claims.js"

/** A tenant's current signing key; `kid` is the RFC 7638 thumbprint of its public JWK. */
export interface SigningKey {
  readonly kid: string
  readonly key: webcrypto.CryptoKey | KeyObject
}

/** A JSON Web Key Set holding public keys only. */
export interface Jwks {
  readonly keys: ReadonlyArray<JWK>
}

/** The key-ring service. */
export interface KeyRingService {
  /**
   * The tenant's active signing key; creates the tenant's first key on demand (idempotent under
   * concurrency). The caller must have validated `tenant`.
   */
  readonly signingKey: (tenant: string) => Effect.Effect<SigningKey>
  /**
   * The tenant's public keys as a JWKS, each `{ kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA",
   * use: "sig" }`. Does not create keys: a tenant without keys yields `{ keys: [] }`, against which
   * nothing verifies.
   */
  readonly jwks: (tenant: string) => Effect.Effect<Jwks>
}

interface StoredKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly publicJwk: JWK
}

interface TenantKeys {
  readonly active: StoredKey
  /** All published keys, active included (rotation keeps retired ones here for an overlap window). */
  readonly published: ReadonlyArray<StoredKey>
}

const generateKey: Effect.Effect<StoredKey> = Effect.gen(function* () {
  const { privateKey, publicKey } = yield* Effect.sync(() => generateKeyPairSync("ed25519"))
  const exported = publicKey.export({ format: "jwk" })
  const base = { kty: "OKP", crv: "Ed25519", x: exported.x as string }
  const kid = yield* Effect.promise(() => calculateJwkThumbprint(base, "sha256"))
  const publicJwk: JWK = Object.freeze({ ...base, kid, alg: TOKEN_ALG, use: "sig" })
  return { kid, privateKey, publicJwk }
})

/** Builds an in-memory key ring. */
export const make: Effect.Effect<KeyRingService> = Effect.gen(function* () {
  const ref = yield* SynchronizedRef.make<ReadonlyMap<string, TenantKeys>>(new Map())

  const ensure = (tenant: string): Effect.Effect<TenantKeys> =>
    SynchronizedRef.modifyEffect(ref, (map) => {
      const existing = map.get(tenant)
      if (existing !== undefined) return Effect.succeed([existing, map] as const)
      return Effect.map(generateKey, (key) => {
        const keys: TenantKeys = { active: key, published: [key] }
        const next = new Map(map)
        next.set(tenant, keys)
        return [keys, next] as const
      })
    })

  const signingKey = (tenant: string): Effect.Effect<SigningKey> =>
    Effect.map(ensure(tenant), ({ active }) => ({ kid: active.kid, key: active.privateKey }))

  const jwks = (tenant: string): Effect.Effect<Jwks> =>
    Effect.map(SynchronizedRef.get(ref), (map) =>
      Option.fromNullable(map.get(tenant)).pipe(
        Option.match({
          onNone: () => ({ keys: [] }),
          onSome: (keys) => ({ keys: keys.published.map((k) => ({ ...k.publicJwk })) })
        })
      )
    )

  return KeyRing.of({ signingKey, jwks })
})

/** Context tag of the per-tenant key ring. `KeyRing.layer` is the in-memory implementation. */
export class KeyRing extends Context.Tag("@cordon/identity/KeyRing")<KeyRing, KeyRingService>() {
  /** In-memory key ring: keys live as long as the layer. */
  static readonly layer: Layer.Layer<KeyRing> = Layer.effect(KeyRing, make)
}
