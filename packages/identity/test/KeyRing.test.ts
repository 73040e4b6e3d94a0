import { describe, expect, it } from "@effect/vitest"
import { calculateJwkThumbprint } from "jose"
import { Effect } from "effect"
import { KeyRing } from "../src/index.js"

describe("KeyRing", () => {
  it.effect("LS-03 creates one Ed25519 key per tenant on demand and publishes only its public part", () =>
    Effect.gen(function* () {
      const keys = yield* KeyRing
      expect((yield* keys.jwks("acme")).keys).toEqual([])
      const [k1, k2] = yield* Effect.all([keys.signingKey("acme"), keys.signingKey("acme")], {
        concurrency: "unbounded"
      })
      expect(k1!.kid).toBe(k2!.kid)
      const { keys: published } = yield* keys.jwks("acme")
      expect(published).toHaveLength(1)
      const jwk = published[0]!
      expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"])
      expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig", kid: k1!.kid })
      expect(jwk.kid).toBe(
        yield* Effect.promise(() => calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x! }))
      )
      const other = yield* keys.signingKey("globex")
      expect(other.kid).not.toBe(k1!.kid)
      expect((yield* keys.jwks("globex")).keys.map((k) => k.kid)).toEqual([other.kid])
    }).pipe(Effect.provide(KeyRing.layer))
  )

  it.effect("a mutated JWKS copy does not change the ring", () =>
    Effect.gen(function* () {
      const keys = yield* KeyRing
      yield* keys.signingKey("acme")
      const first = yield* keys.jwks("acme")
      ;(first.keys[0] as { x?: string }).x = "tampered"
      expect((yield* keys.jwks("acme")).keys[0]!.x).not.toBe("tampered")
    }).pipe(Effect.provide(KeyRing.layer))
  )
})
