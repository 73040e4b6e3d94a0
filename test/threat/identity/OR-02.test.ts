/**
 * OR-02 — revoking a parent leaves its children alive. The verifier checks the revocation status
 * of every ancestor in the chain, so revoking the root grant kills every token delegated from it.
 */
import { RevocationList, TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  atNow,
  exchangeRequest,
  expectRefusal,
  Identity,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

describe("OR-02 ancestor revocation", () => {
  it.effect(
    "OR-02 after the root is revoked, the child's chain fails with TokenRevoked(ancestor_revoked)",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const revocations = yield* RevocationList
        const { chain, root, hop1 } = yield* threeHop
        expect((yield* verifyChain(chain, yield* verifyOptions())).leaf.dep).toBe(2)
        yield* revocations.revoke([root.claims.jti], "manual", root.claims.exp)
        expectRefusal(
          yield* Effect.flip(verifyChain(chain, yield* verifyOptions())),
          "E_TOKEN_REVOKED",
          "ancestor_revoked"
        )
        expectRefusal(
          yield* Effect.flip(verifyChain(chain.slice(0, 2), yield* verifyOptions())),
          "E_TOKEN_REVOKED",
          "ancestor_revoked"
        )
        expect(revocations.isRevoked(hop1.claims.jti)).toBe(false)
      }).pipe(Effect.provide(Identity))
  )

  it.effect("OR-02 a middle hop revoked: the leaf's chain fails and no further handoff is minted", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const revocations = yield* RevocationList
      const { chain, hop1 } = yield* threeHop
      yield* revocations.revoke([hop1.claims.jti], "task_complete", hop1.claims.exp)
      const before = yield* signatures
      const err = yield* Effect.flip(tokens.exchange(exchangeRequest(chain, { toAgent: "auditor" })))
      expectRefusal(err, "E_TOKEN_REVOKED", "ancestor_revoked")
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )
})
