import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"
import {
  KeyRing,
  KeyStore,
  KeyStoreError,
  type KeyStoreService,
  MasterKey,
  RevocationList,
  type StoredKeyRecord,
  TokenService,
  verifyChain
} from "../src/index.js"
import { A, atNow, B, NOW_MS, rootRequest, verifyOptions } from "./support.js"

const master = new Uint8Array(32).fill(7)
const otherMaster = new Uint8Array(32).fill(8)
const Persistent = KeyRing.layerPersistent.pipe(
  Layer.provideMerge(Layer.merge(KeyStore.layerMemory, MasterKey.layer(master)))
)
/** Token service over a persistent ring (overlap 300 s, the default = the maximum TTL). */
const Tokens = TokenService.layer.pipe(Layer.provideMerge(Layer.merge(Persistent, RevocationList.layer)))

const kids = (tenant: string) =>
  Effect.flatMap(KeyRing, (ring) => ring.jwks(tenant)).pipe(Effect.map((j) => j.keys.map((k) => k.kid)))

describe("KeyRing rotation and retirement", () => {
  it.effect(
    "LS-03 rotate: the new key signs, the old one verifies until successor activation + overlap",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const ring = yield* KeyRing
        const first = (yield* ring.signingKey(A)).kid
        yield* TestClock.adjust("10 seconds")
        const second = yield* ring.rotate(A)
        expect(second).not.toBe(first)
        expect((yield* ring.signingKey(A)).kid).toBe(second)
        expect(yield* kids(A)).toEqual([first, second])
        yield* TestClock.adjust("300 seconds")
        expect(yield* kids(A)).toEqual([first, second])
        yield* TestClock.adjust("1 second")
        expect(yield* kids(A)).toEqual([second])
        const status = yield* ring.keys(A)
        expect(status.map((k) => [k.kid, k.active, k.published, k.retiredAt])).toEqual([
          [first, false, false, NOW_MS + 10_000],
          [second, true, true, null]
        ])
      }).pipe(Effect.provide(Persistent))
  )

  it.effect("LS-03 retire compromised: removed from the JWKS at once and replaced for signing", () =>
    Effect.gen(function* () {
      yield* atNow
      const ring = yield* KeyRing
      const tokens = yield* TokenService
      const minted = yield* tokens.mintRoot(rootRequest())
      const old = (yield* ring.signingKey(A)).kid
      yield* ring.retire(A, old, { compromised: true })
      expect(yield* kids(A)).not.toContain(old)
      expect((yield* ring.signingKey(A)).kid).not.toBe(old)
      const err = yield* Effect.flip(verifyChain([minted.token], verifyOptions(yield* ring.jwks(A))))
      expect(err).toMatchObject({ code: "E_TOKEN_INVALID", reason: "kid" })
      const again = yield* tokens.mintRoot(rootRequest())
      expect((yield* verifyChain([again.token], verifyOptions(yield* ring.jwks(A)))).leaf.jti).toBe(
        again.claims.jti
      )
      expect(yield* Effect.flip(ring.retire(A, "no-such-kid"))).toMatchObject({
        code: "E_KEY_RING",
        reason: "unknown_kid"
      })
    }).pipe(Effect.provide(Tokens))
  )

  it.effect("retire without compromise keeps the key published for the overlap; compromise can follow", () =>
    Effect.gen(function* () {
      yield* atNow
      const ring = yield* KeyRing
      const first = (yield* ring.signingKey(A)).kid
      yield* ring.retire(A, first)
      expect(yield* kids(A)).toContain(first)
      yield* ring.retire(A, first, { compromised: true })
      expect(yield* kids(A)).not.toContain(first)
      yield* ring.retire(A, first)
      expect((yield* ring.keys(A)).find((k) => k.kid === first)?.compromised).toBe(true)
    }).pipe(Effect.provide(Persistent))
  )

  it.effect("rotateIfOlderThan rotates only a key older than the given age", () =>
    Effect.gen(function* () {
      yield* atNow
      const ring = yield* KeyRing
      expect(yield* ring.rotateIfOlderThan(A, 3600)).toBe(true)
      const first = (yield* ring.signingKey(A)).kid
      yield* TestClock.adjust("3600 seconds")
      expect(yield* ring.rotateIfOlderThan(A, 3600)).toBe(false)
      yield* TestClock.adjust("1 second")
      expect(yield* ring.rotateIfOlderThan(A, 3600)).toBe(true)
      expect((yield* ring.signingKey(A)).kid).not.toBe(first)
    }).pipe(Effect.provide(Persistent))
  )

  it.effect("an overlap shorter than the maximum token TTL is refused with E_CONFIG", () =>
    Effect.gen(function* () {
      const layer = KeyRing.layerPersistentWith({ overlapSeconds: 60, maxTokenTtlSeconds: 300 }).pipe(
        Layer.provide(Layer.merge(KeyStore.layerMemory, MasterKey.layer(master)))
      )
      const exit = yield* Effect.exit(Layer.build(layer).pipe(Effect.scoped))
      expect(exit).toEqual(Exit.fail(expect.objectContaining({ code: "E_CONFIG", reason: "key_overlap" })))
    })
  )
})

describe("KeyRing persistence", () => {
  it.effect("keys persist wrapped and a new ring over the same store loads the same keys", () =>
    Effect.gen(function* () {
      yield* atNow
      const store = yield* KeyStore
      const ring1 = yield* KeyRing
      const k1 = yield* ring1.signingKey(A)
      const records = yield* store.load(A)
      expect(records).toHaveLength(1)
      const record = records[0]!
      expect(record).toMatchObject({ tenant: A, kid: k1.kid, retiredAt: null, compromised: false })
      expect(record.wrapped).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(JSON.stringify(records)).not.toMatch(/PRIVATE KEY|"d":/)
      const ring2 = yield* KeyRing.pipe(
        Effect.provide(KeyRing.layerPersistent.pipe(Layer.provide(Layer.succeed(KeyStore, store))))
      )
      expect((yield* ring2.signingKey(A)).kid).toBe(k1.kid)
      expect(yield* ring2.jwks(A)).toEqual(yield* ring1.jwks(A))
    }).pipe(Effect.provide(Persistent))
  )

  const tamperedStore = (store: KeyStoreService, edit: (r: StoredKeyRecord) => StoredKeyRecord) =>
    Layer.succeed(KeyStore, { ...store, load: (t) => Effect.map(store.load(t), (rs) => rs.map(edit)) })

  it.effect(
    "a wrapped key copied to another tenant or kid, tampered, or under another master key fails",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const store = yield* KeyStore
        const ring = yield* KeyRing
        yield* ring.signingKey(A)
        yield* ring.signingKey(B)
        const other = (yield* store.load(B))[0]!
        const reload = (storeLayer: Layer.Layer<KeyStore>, key: Uint8Array = master) =>
          Effect.flip(
            Effect.flatMap(KeyRing, (r) => r.signingKey(A)).pipe(
              Effect.provide(
                KeyRing.layerPersistent.pipe(Layer.provide(Layer.merge(storeLayer, MasterKey.layer(key))))
              )
            )
          )
        const cases: Array<[string, Layer.Layer<KeyStore>, Uint8Array]> = [
          ["copied to tenant A", tamperedStore(store, (r) => ({ ...r, wrapped: other.wrapped })), master],
          ["another kid", tamperedStore(store, (r) => ({ ...r, kid: other.kid })), master],
          [
            "tampered",
            tamperedStore(store, (r) => ({
              ...r,
              wrapped: `${r.wrapped.slice(0, 20)}${r.wrapped[20] === "A" ? "B" : "A"}${r.wrapped.slice(21)}`
            })),
            master
          ],
          ["other master key", Layer.succeed(KeyStore, store), otherMaster]
        ]
        for (const [, layer, key] of cases) {
          expect(yield* reload(layer, key)).toMatchObject({ code: "E_KEY_RING", reason: "unwrap" })
        }
      }).pipe(Effect.provide(Persistent))
  )

  it.effect("a key-store failure surfaces as KeyRingError(store), never as a key", () =>
    Effect.gen(function* () {
      const failing = Layer.succeed(KeyStore, {
        load: () => Effect.fail(new KeyStoreError({ reason: "unavailable" })),
        save: () => Effect.void,
        update: () => Effect.void
      })
      const err = yield* Effect.flip(
        Effect.flatMap(KeyRing, (r) => r.signingKey(A)).pipe(
          Effect.provide(
            KeyRing.layerPersistent.pipe(Layer.provide(Layer.merge(failing, MasterKey.layer(master))))
          )
        )
      )
      expect(err).toMatchObject({ _tag: "KeyRingError", code: "E_KEY_RING", reason: "store" })
    })
  )
})
