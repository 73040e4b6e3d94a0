/**
 * OR-04 — the revocation check fails open. When the revocation status is unknown (the store
 * throws or does not answer), verification is denied with RevocationUnavailable; nothing is minted.
 */
import { RevocationList, TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import {
  atNow,
  exchangeRequest,
  expectRefusal,
  Identity,
  identityWith,
  rootRequest,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

/** A revocation list whose store is down. */
const Unavailable = Layer.succeed(RevocationList, {
  revoke: () => Effect.void,
  isRevoked: () => {
    throw new Error("revocation store timeout")
  },
  reasonOf: () => undefined,
  snapshot: () => new Set<string>(),
  version: () => 0,
  purge: Effect.succeed(0)
})

describe("OR-04 revocation status unknown", () => {
  it.effect(
    "OR-04 a throwing or non-answering revocation check fails with RevocationUnavailable, never allows",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const { chain } = yield* threeHop
        const predicates = [
          () => {
            throw new Error("revocation store timeout")
          },
          () => undefined as unknown as boolean,
          () => Promise.resolve(false) as unknown as boolean
        ]
        for (const isRevoked of predicates) {
          const err = yield* Effect.flip(verifyChain(chain, yield* verifyOptions({ isRevoked })))
          expectRefusal(err, "E_REVOCATION_UNAVAILABLE")
          expect(err._tag).toBe("RevocationUnavailable")
        }
      }).pipe(Effect.provide(Identity))
  )

  it.effect("OR-04 a handoff while the revocation store is down mints no token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest())
      const before = yield* signatures
      const err = yield* Effect.flip(tokens.exchange(exchangeRequest([root.token])))
      expectRefusal(err, "E_REVOCATION_UNAVAILABLE")
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(identityWith(Unavailable)))
  )
})
