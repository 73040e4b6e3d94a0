/**
 * DS-03 — cycles or deep chains launder scope or time. Depth is capped (4), agents cannot repeat
 * in a chain, and re-delegation never extends the TTL.
 */
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import {
  atNow,
  childOf,
  exchangeRequest,
  expectRefusal,
  forge,
  Identity,
  MAX_DEPTH,
  NOW_MS,
  rootRequest,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

/** A chain a0 → a1 → … of `links` tokens, minted through real exchanges. */
const chainOf = (links: number) =>
  Effect.gen(function* () {
    const tokens = yield* TokenService
    const chain = [(yield* tokens.mintRoot(rootRequest({ agent: "a0" }))).token]
    for (let i = 1; i < links; i++) {
      yield* TestClock.adjust("1 second")
      chain.push((yield* tokens.exchange(exchangeRequest(chain, { toAgent: `a${i}` }))).token)
    }
    return chain
  })

describe("DS-03 depth and cycles", () => {
  it.effect("DS-03 a hop to depth 5 (max 4) fails with DelegationChainError(depth) and mints nothing", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const chain = yield* chainOf(MAX_DEPTH + 1)
      const verified = yield* verifyChain(chain, yield* verifyOptions({ now: new Date(NOW_MS + 4_000) }))
      expect(verified.leaf.dep).toBe(MAX_DEPTH)
      const before = yield* signatures
      const err = yield* Effect.flip(tokens.exchange(exchangeRequest(chain, { toAgent: "a5" })))
      expectRefusal(err, "E_DELEGATION_CHAIN", "depth")
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-03 a 50-hop chain is refused with depth before any signature is checked", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const long = Array.from({ length: 50 }, (_, i) => chain[i % 3]!)
      expectRefusal(
        yield* Effect.flip(verifyChain(long, yield* verifyOptions())),
        "E_DELEGATION_CHAIN",
        "depth"
      )
    }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "DS-03 a cycle back to an earlier agent (A→B→A) fails with cycle, by exchange or by forgery",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const tokens = yield* TokenService
        const { chain } = yield* threeHop
        const before = yield* signatures
        for (const toAgent of ["orchestrator", "researcher", "writer"]) {
          expectRefusal(
            yield* Effect.flip(tokens.exchange(exchangeRequest(chain, { toAgent }))),
            "E_DELEGATION_CHAIN",
            "cycle"
          )
        }
        expect(yield* signatures).toBe(before)
        const back = yield* forge("tenant-a", childOf(chain[1]!, "orchestrator"))
        expectRefusal(
          yield* Effect.flip(verifyChain([chain[0]!, chain[1]!, back], yield* verifyOptions())),
          "E_DELEGATION_CHAIN",
          "cycle"
        )
      }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-03 re-delegation never extends the TTL: every hop's exp is at most its parent's", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest({ ttlSeconds: 30 }))
      const chain = [root.token]
      let parentExp = root.claims.exp
      for (const agent of ["b1", "b2", "b3"]) {
        yield* TestClock.adjust("5 seconds")
        const child = yield* tokens.exchange(exchangeRequest(chain, { toAgent: agent, ttlSeconds: 300 }))
        expect(child.claims.exp).toBeLessThanOrEqual(parentExp)
        parentExp = child.claims.exp
        chain.push(child.token)
      }
      expect(parentExp).toBe(root.claims.exp)
    }).pipe(Effect.provide(Identity))
  )
})
