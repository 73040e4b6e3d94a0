/**
 * Per-tenant Ed25519 signing key rings (RFC 8037) with rotation and retirement, and their public
 * JWKS (RFC 7517).
 *
 * Private keys never leave the broker: only the {@link KeyRing} holds them, persisted through the
 * {@link KeyStore} only wrapped under the {@link MasterKey}; {@link KeyRingService.jwks} returns
 * public members only. A tenant's key never signs another tenant's token: keys are looked up by
 * tenant and each tenant has its own ring. Time comes from Effect's `Clock`.
 *
 * Lifecycle of a key: active (signs, published) → superseded or retired at `retiredAt` (no longer
 * signs, still published for `overlapSeconds` so tokens it signed keep verifying until they
 * expire) → unpublished. A key retired as compromised is unpublished at once.
 *
 * @module
 */
import type { KeyObject, webcrypto } from "node:crypto"
import type { JWK } from "jose"
import { Clock, Context, Effect, Either, Layer, Redacted, Schema, SynchronizedRef } from "effect"
import { IdentityConfigError } from "./IdentityConfigError.js"
import {
  activeOf,
  effectiveRetiredAt,
  generateLiveKey,
  isPublishedAt,
  type LiveKey,
  type TenantKeys,
  unwrapRecord
} from "./internal/keys.js"
import { KeyStore, type StoredKeyRecord } from "./KeyStore.js"
import { MasterKey } from "./MasterKey.js"

/** A tenant's current signing key; `kid` is the RFC 7638 thumbprint of its public JWK. */
export interface SigningKey {
  readonly kid: string
  readonly key: webcrypto.CryptoKey | KeyObject
}

/** A JSON Web Key Set holding public keys only. */
export interface Jwks {
  readonly keys: ReadonlyArray<JWK>
}

/** Lifecycle of one key (no key material), see {@link KeyRingService.keys}. */
export interface KeyStatus {
  readonly kid: string
  /** Epoch milliseconds. */
  readonly createdAt: number
  readonly activatedAt: number
  readonly retiredAt: number | null
  readonly compromised: boolean
  /** Whether the key signs new tokens. */
  readonly active: boolean
  /** Whether the key is in the tenant's JWKS now. */
  readonly published: boolean
}

/**
 * The key ring failed: the key store failed (`store`), a persisted key did not unwrap under the
 * master key for its tenant and `kid` (`unwrap`: wrong master key, tampered or copied record), or
 * the `kid` to retire is not one of the tenant's keys (`unknown_kid`). `code` is always
 * `E_KEY_RING`; no key material or tenant data is included.
 */
export class KeyRingError extends Schema.TaggedError<KeyRingError>()("KeyRingError", {
  code: Schema.Literal("E_KEY_RING").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_KEY_RING" as const)
  ),
  reason: Schema.Literal("store", "unwrap", "unknown_kid")
}) {}

/** Options of a key ring. */
export interface KeyRingOptions {
  /**
   * How long a superseded or (non-compromised) retired key stays published, in seconds; default
   * 300. Must be ≥ `maxTokenTtlSeconds`, so every token a key signed expires before it is
   * unpublished (threat LS-03).
   */
  readonly overlapSeconds?: number
  /** The largest token TTL the token service mints, in seconds; default 300. */
  readonly maxTokenTtlSeconds?: number
}

/** The key-ring service. The caller must have validated `tenant`. */
export interface KeyRingService {
  /**
   * The tenant's active signing key. Loads the tenant's persisted keys first; creates (and
   * persists) the tenant's first key when it has none. Idempotent under concurrency.
   * Fails with `KeyRingError` (`store`, `unwrap`).
   */
  readonly signingKey: (tenant: string) => Effect.Effect<SigningKey, KeyRingError>
  /**
   * The tenant's published public keys as a JWKS, each `{ kty: "OKP", crv: "Ed25519", x, kid,
   * alg: "EdDSA", use: "sig" }`: the active key plus keys retired less than `overlapSeconds` ago,
   * never a compromised key. Does not create keys: a tenant without keys yields `{ keys: [] }`.
   */
  readonly jwks: (tenant: string) => Effect.Effect<Jwks, KeyRingError>
  /**
   * Activates a new key; the previous one stops signing now and stays published for
   * `overlapSeconds`. Returns the new key's `kid`.
   */
  readonly rotate: (tenant: string) => Effect.Effect<string, KeyRingError>
  /**
   * Retires key `kid`: it stops signing (a retired active key is replaced by a new one at once).
   * With `compromised: true` it also leaves the JWKS at once, so every token under it fails with
   * `TokenInvalid(kid)`; otherwise it stays published for `overlapSeconds`. Retiring again may
   * mark a key compromised, never un-mark it. Fails with `KeyRingError(unknown_kid)`.
   */
  readonly retire: (
    tenant: string,
    kid: string,
    options?: { readonly compromised?: boolean }
  ) => Effect.Effect<void, KeyRingError>
  /**
   * Scheduled rotation: rotates when the active key was activated more than `maxAgeSeconds` ago
   * (or creates the first key). Returns whether a new key was activated.
   */
  readonly rotateIfOlderThan: (tenant: string, maxAgeSeconds: number) => Effect.Effect<boolean, KeyRingError>
  /** Lifecycle of the tenant's keys, oldest first (no key material). */
  readonly keys: (tenant: string) => Effect.Effect<ReadonlyArray<KeyStatus>, KeyRingError>
}

const storeError = () => new KeyRingError({ reason: "store" })

/** Builds a key ring over `KeyStore` and `MasterKey`; fails with `IdentityConfigError(key_overlap)`. */
export const make = (options: KeyRingOptions = {}) =>
  Effect.gen(function* () {
    const overlap = options.overlapSeconds ?? 300
    const maxTtl = options.maxTokenTtlSeconds ?? 300
    if (!Number.isInteger(maxTtl) || maxTtl <= 0) {
      return yield* Effect.fail(new IdentityConfigError({ reason: "max_ttl" }))
    }
    if (!Number.isInteger(overlap) || overlap < maxTtl) {
      return yield* Effect.fail(new IdentityConfigError({ reason: "key_overlap" }))
    }
    const overlapMs = overlap * 1000
    const store = yield* KeyStore
    const master = Redacted.value((yield* MasterKey).key)
    const ref = yield* SynchronizedRef.make<ReadonlyMap<string, TenantKeys>>(new Map())

    const isPublished = (keys: TenantKeys, i: number, nowMs: number) =>
      isPublishedAt(keys, i, nowMs, overlapMs)

    const unwrap = (record: StoredKeyRecord): Either.Either<LiveKey, KeyRingError> => {
      const live = unwrapRecord(master, record)
      return live === undefined ? Either.left(new KeyRingError({ reason: "unwrap" })) : Either.right(live)
    }

    const load = (tenant: string): Effect.Effect<TenantKeys, KeyRingError> =>
      Effect.gen(function* () {
        const records = yield* Effect.mapError(store.load(tenant), storeError)
        const live: Array<LiveKey> = []
        for (const record of records) {
          if (record.tenant !== tenant) return yield* Effect.fail(new KeyRingError({ reason: "unwrap" }))
          live.push(yield* unwrap(record))
        }
        return live.sort(
          (a, b) =>
            a.record.activatedAt - b.record.activatedAt ||
            a.record.createdAt - b.record.createdAt ||
            (a.record.kid < b.record.kid ? -1 : 1)
        )
      })

    const newKey = (tenant: string, after: TenantKeys): Effect.Effect<LiveKey, KeyRingError> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const last = after[after.length - 1]
        const activatedAt = Math.max(now, last === undefined ? 0 : last.record.activatedAt + 1)
        const fresh = generateLiveKey(master, tenant, now, activatedAt)
        yield* Effect.mapError(store.save(fresh.record), storeError)
        return fresh
      })

    /** Runs `f` on the tenant's loaded keys under the ring's lock and stores what it returns. */
    const modify = <A>(
      tenant: string,
      f: (keys: TenantKeys) => Effect.Effect<readonly [A, TenantKeys], KeyRingError>
    ): Effect.Effect<A, KeyRingError> =>
      SynchronizedRef.modifyEffect(ref, (map) =>
        Effect.gen(function* () {
          const loaded = map.get(tenant) ?? (yield* load(tenant))
          const [result, keys] = yield* f(loaded)
          if (keys === map.get(tenant)) return [result, map] as const
          return [result, new Map(map).set(tenant, keys)] as const
        })
      )

    /** Marks `keys[i]` retired at `now` (persisted first) and returns the new list. */
    const retireAt = (keys: TenantKeys, i: number, now: number, compromised: boolean) =>
      Effect.gen(function* () {
        const key = keys[i]!
        const record: StoredKeyRecord = {
          ...key.record,
          retiredAt: key.record.retiredAt ?? effectiveRetiredAt(keys, i) ?? now,
          compromised: key.record.compromised || compromised
        }
        if (record.retiredAt === key.record.retiredAt && record.compromised === key.record.compromised)
          return keys
        yield* Effect.mapError(store.update(record), storeError)
        const next = [...keys]
        next[i] = { ...key, record }
        return next
      })

    /** Appends a new active key and retires the previous active one (new key persisted first). */
    const rotateKeys = (tenant: string, keys: TenantKeys) =>
      Effect.gen(function* () {
        const fresh = yield* newKey(tenant, keys)
        const now = fresh.record.activatedAt
        let next: TenantKeys = keys
        for (let i = 0; i < keys.length; i++) {
          if (keys[i]!.record.retiredAt === null) next = yield* retireAt(next, i, now, false)
        }
        return [fresh.record.kid, [...next, fresh]] as const
      })

    const ensureActive = (tenant: string): Effect.Effect<LiveKey, KeyRingError> =>
      modify(tenant, (keys) => {
        const active = activeOf(keys)
        if (active !== undefined) return Effect.succeed([active, keys] as const)
        return Effect.map(rotateKeys(tenant, keys), ([, next]) => [next[next.length - 1]!, next] as const)
      })

    const toSigningKey = (active: LiveKey): SigningKey => ({ kid: active.record.kid, key: active.privateKey })

    const signingKey = (tenant: string): Effect.Effect<SigningKey, KeyRingError> =>
      Effect.flatMap(SynchronizedRef.get(ref), (map) => {
        const cached = map.get(tenant)
        const active = cached === undefined ? undefined : activeOf(cached)
        return active === undefined
          ? Effect.map(ensureActive(tenant), toSigningKey)
          : Effect.succeed(toSigningKey(active))
      })

    const loaded = (tenant: string): Effect.Effect<TenantKeys, KeyRingError> =>
      Effect.flatMap(SynchronizedRef.get(ref), (map) => {
        const keys = map.get(tenant)
        return keys !== undefined
          ? Effect.succeed(keys)
          : modify(tenant, (k) => Effect.succeed([k, k] as const))
      })

    const jwks = (tenant: string): Effect.Effect<Jwks, KeyRingError> =>
      Effect.flatMap(loaded(tenant), (keys) =>
        Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.succeed({
            keys: keys.filter((_, i) => isPublished(keys, i, now)).map((k) => ({ ...k.publicJwk }))
          })
        })
      )

    const rotate = (tenant: string): Effect.Effect<string, KeyRingError> =>
      modify(tenant, (keys) => rotateKeys(tenant, keys))

    const retire = (
      tenant: string,
      kid: string,
      opts: { readonly compromised?: boolean } = {}
    ): Effect.Effect<void, KeyRingError> =>
      modify(tenant, (keys) =>
        Effect.gen(function* () {
          const i = keys.findIndex((k) => k.record.kid === kid)
          if (i === -1) return yield* Effect.fail(new KeyRingError({ reason: "unknown_kid" }))
          const wasActive = keys[i] === activeOf(keys)
          const now = yield* Clock.currentTimeMillis
          const next = yield* retireAt(keys, i, now, opts.compromised === true)
          if (!wasActive) return [undefined, next] as const
          const [, rotated] = yield* rotateKeys(tenant, next)
          return [undefined, rotated] as const
        })
      )

    const rotateIfOlderThan = (
      tenant: string,
      maxAgeSeconds: number
    ): Effect.Effect<boolean, KeyRingError> =>
      Number.isFinite(maxAgeSeconds) && maxAgeSeconds > 0
        ? modify(tenant, (keys) =>
            Effect.gen(function* () {
              const active = activeOf(keys)
              const now = yield* Clock.currentTimeMillis
              if (active !== undefined && now - active.record.activatedAt <= maxAgeSeconds * 1000) {
                return [false, keys] as const
              }
              const [, next] = yield* rotateKeys(tenant, keys)
              return [true, next] as const
            })
          )
        : Effect.dieMessage("maxAgeSeconds must be a positive number")

    const keyStatus = (tenant: string): Effect.Effect<ReadonlyArray<KeyStatus>, KeyRingError> =>
      Effect.gen(function* () {
        const keys = yield* loaded(tenant)
        const now = yield* Clock.currentTimeMillis
        const active = activeOf(keys)
        return keys.map(({ record }, i) => ({
          kid: record.kid,
          createdAt: record.createdAt,
          activatedAt: record.activatedAt,
          retiredAt: effectiveRetiredAt(keys, i),
          compromised: record.compromised,
          active: keys[i] === active,
          published: isPublished(keys, i, now)
        }))
      })

    return KeyRing.of({ signingKey, jwks, rotate, retire, rotateIfOlderThan, keys: keyStatus })
  })

/**
 * Context tag of the per-tenant key ring.
 *
 * - `KeyRing.layer`: in-memory key store and a master key generated per layer build (keys live
 *   as long as the layer); default options.
 * - `KeyRing.layerPersistent` / `layerPersistentWith(options)`: over the provided `KeyStore` and
 *   `MasterKey`; the latter fails with `IdentityConfigError` on unsafe options.
 */
export class KeyRing extends Context.Tag("@cordon/identity/KeyRing")<KeyRing, KeyRingService>() {
  static readonly layer: Layer.Layer<KeyRing> = Layer.effect(KeyRing, Effect.orDie(make())).pipe(
    Layer.provide(Layer.merge(KeyStore.layerMemory, MasterKey.layerGenerated))
  )
  static readonly layerPersistent: Layer.Layer<KeyRing, never, KeyStore | MasterKey> = Layer.effect(
    KeyRing,
    Effect.orDie(make())
  )
  static readonly layerPersistentWith = (
    options: KeyRingOptions
  ): Layer.Layer<KeyRing, IdentityConfigError, KeyStore | MasterKey> => Layer.effect(KeyRing, make(options))
}
