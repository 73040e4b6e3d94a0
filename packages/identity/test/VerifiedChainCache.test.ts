import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import {
  KeyRing,
  makeVerifiedChainCache,
  TokenService,
  tenantIssuer,
  type VerifiedChainCache,
  verifyChain
} from "../src/index.js"
import { A, agentUri, atNow, B, NOW, rootRequest, TestLayer, threeHop, verifyOptions } from "./support.js"

const verifyWith = (
  cache: VerifiedChainCache,
  chain: ReadonlyArray<string>,
  overrides: Parameters<typeof verifyOptions>[1] = {}
) =>
  Effect.gen(function* () {
    const jwks = yield* (yield* TokenService).jwks(A)
    return yield* verifyChain(chain, verifyOptions(jwks, { cache, ...overrides }))
  })

/** The same token with its signature's last character changed only in bits base64url ignores. */
const nonCanonical = (token: string): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  const last = alphabet.indexOf(token[token.length - 1]!)
  return token.slice(0, -1) + alphabet[last ^ 1]
}

describe("verified-chain prefix cache", () => {
  it.effect("a verified chain is served from the cache; an extended chain verifies only the new link", () =>
    Effect.gen(function* () {
      yield* atNow
      const cache = makeVerifiedChainCache()
      const { chain } = yield* threeHop
      const first = yield* verifyWith(cache, chain.slice(0, 2))
      expect(cache.size()).toBe(2)
      expect(cache.stats()).toMatchObject({ hits: 0 })
      const extended = yield* verifyWith(cache, chain)
      expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 })
      expect(cache.size()).toBe(3)
      const again = yield* verifyWith(cache, chain)
      expect(cache.stats()).toMatchObject({ hits: 5, misses: 2 })
      expect(again).toEqual(extended)
      expect(extended.claims.slice(0, 2)).toEqual(first.claims)
      expect(Object.isFrozen(again.leaf) && Object.isFrozen(again.leaf.scp)).toBe(true)
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("expiry, audience, session and revocation of every link are still checked on a cache hit", () =>
    Effect.gen(function* () {
      yield* atNow
      const cache = makeVerifiedChainCache()
      const { chain, root, hop2 } = yield* threeHop
      yield* verifyWith(cache, chain)
      const at = (sec: number) => new Date(sec * 1000)
      expect(yield* Effect.flip(verifyWith(cache, chain, { now: at(hop2.claims.exp + 5) }))).toMatchObject({
        code: "E_TOKEN_EXPIRED"
      })
      expect(yield* Effect.flip(verifyWith(cache, chain, { now: at(NOW - 60) }))).toMatchObject({
        code: "E_TOKEN_NOT_YET_VALID"
      })
      expect(
        yield* Effect.flip(verifyWith(cache, chain, { audience: agentUri(A, "researcher") }))
      ).toMatchObject({ code: "E_AUDIENCE_MISMATCH" })
      expect(yield* Effect.flip(verifyWith(cache, chain, { session: "sess-9" }))).toMatchObject({
        code: "E_SESSION_BINDING"
      })
      const revoked = (jti: string) => jti === root.claims.jti
      expect(yield* Effect.flip(verifyWith(cache, chain, { isRevoked: revoked }))).toMatchObject({
        code: "E_TOKEN_REVOKED",
        reason: "ancestor_revoked"
      })
      expect(cache.stats()).toEqual({ hits: 13, misses: 1, evictions: 0 })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("a cached link out of its prefix, or under another tenant or a retired key, is not a hit", () =>
    Effect.gen(function* () {
      yield* atNow
      const cache = makeVerifiedChainCache()
      const { chain } = yield* threeHop
      yield* verifyWith(cache, chain)
      expect(yield* Effect.flip(verifyWith(cache, [chain[0]!, chain[2]!]))).toMatchObject({
        code: "E_DELEGATION_CHAIN",
        reason: "broken_link"
      })
      expect(yield* Effect.flip(verifyWith(cache, [chain[1]!, chain[2]!]))).toMatchObject({
        code: "E_DELEGATION_CHAIN",
        reason: "broken_link"
      })
      const tokens = yield* TokenService
      const both = { keys: [...(yield* tokens.jwks(A)).keys, ...(yield* tokens.jwks(B)).keys] }
      const asB = verifyOptions(both, { cache, tenant: B, issuer: tenantIssuer(B) })
      expect(yield* Effect.flip(verifyChain(chain, asB))).toMatchObject({ code: "E_TENANT_MISMATCH" })
      const ring = yield* KeyRing
      yield* ring.retire(A, (yield* ring.signingKey(A)).kid, { compromised: true })
      const withoutOld = yield* ring.jwks(A)
      expect(yield* Effect.flip(verifyChain(chain, verifyOptions(withoutOld, { cache })))).toMatchObject({
        code: "E_TOKEN_INVALID",
        reason: "kid"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("a token whose bytes differ never hits; a non-canonical encoding is refused as malformed", () =>
    Effect.gen(function* () {
      yield* atNow
      const cache = makeVerifiedChainCache()
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      yield* verifyWith(cache, [root.token])
      const twin = nonCanonical(root.token)
      expect(Buffer.from(twin.split(".")[2]!, "base64url")).toEqual(
        Buffer.from(root.token.split(".")[2]!, "base64url")
      )
      expect(yield* Effect.flip(verifyWith(cache, [twin]))).toMatchObject({
        code: "E_TOKEN_INVALID",
        reason: "malformed"
      })
      expect(yield* Effect.flip(verifyWith(makeVerifiedChainCache(), [twin]))).toMatchObject({
        reason: "malformed"
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect(
    "the cache is bounded (least recently used evicted) and must come from makeVerifiedChainCache",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const cache = makeVerifiedChainCache({ maxEntries: 2 })
        const { chain } = yield* threeHop
        yield* verifyWith(cache, chain)
        expect(cache.size()).toBe(2)
        expect(cache.stats().evictions).toBe(1)
        expect((yield* verifyWith(cache, chain)).claims).toHaveLength(3)
        expect(cache.size()).toBe(2)
        cache.clear()
        expect(cache.size()).toBe(0)
        const fake = {
          maxEntries: 1,
          size: () => 0,
          clear: () => {},
          stats: () => ({ hits: 0, misses: 0, evictions: 0 })
        }
        const exit = yield* Effect.exit(verifyWith(fake, chain))
        expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
        expect(() => makeVerifiedChainCache({ maxEntries: 0 })).toThrow(
          expect.objectContaining({ code: "E_CONFIG" })
        )
      }).pipe(Effect.provide(TestLayer))
  )
})
