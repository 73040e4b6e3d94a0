/**
 * DS-02 — a delegation hop is forged, dropped or reordered. Every hop is signed by the broker
 * over its parent's hash; the verifier walks the chain to the root. `act` is display only.
 */
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  atNow,
  childOf,
  claimsOf,
  exchangeRequest,
  expectRefusal,
  forge,
  Identity,
  signatures,
  threeHop,
  verifyOptions
} from "./support.js"

describe("DS-02 forged, dropped or reordered hops", () => {
  it.effect("DS-02 a dropped middle hop or a dropped root fails with DelegationChainError(broken_link)", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const options = yield* verifyOptions()
      for (const dropped of [[chain[0]!, chain[2]!], [chain[1]!, chain[2]!], [chain[2]!]]) {
        expectRefusal(yield* Effect.flip(verifyChain(dropped, options)), "E_DELEGATION_CHAIN", "broken_link")
      }
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-02 reordered hops fail with broken_link", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const options = yield* verifyOptions()
      for (const order of [
        [0, 2, 1],
        [1, 0, 2],
        [2, 1, 0]
      ]) {
        const reordered = order.map((i) => chain[i]!)
        expectRefusal(
          yield* Effect.flip(verifyChain(reordered, options)),
          "E_DELEGATION_CHAIN",
          "broken_link"
        )
      }
    }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-02 an edited hop (scopes widened, signature kept) fails with bad_signature", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const [header, , signature] = chain[1]!.split(".")
      const edited = { ...claimsOf(chain[1]!), scp: ["crm:read", "crm:write", "mail:read"] }
      const forged = `${header}.${Buffer.from(JSON.stringify(edited)).toString("base64url")}.${signature}`
      const options = yield* verifyOptions()
      expectRefusal(
        yield* Effect.flip(verifyChain([chain[0]!, forged, chain[2]!], options)),
        "E_DELEGATION_CHAIN",
        "bad_signature"
      )
    }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "DS-02 a hop whose act claims a different delegator fails with broken_link (act is not trusted)",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const { chain } = yield* threeHop
        const forged = yield* forge(
          "tenant-a",
          childOf(chain[1]!, "writer", { act: { sub: "spiffe://cordon.test/tenant/tenant-a/agent/admin" } })
        )
        const options = yield* verifyOptions()
        expectRefusal(
          yield* Effect.flip(verifyChain([chain[0]!, chain[1]!, forged], options)),
          "E_DELEGATION_CHAIN",
          "broken_link"
        )
      }).pipe(Effect.provide(Identity))
  )

  it.effect("DS-02 an exchange presenting a chain with a dropped hop mints no token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { chain } = yield* threeHop
      const before = yield* signatures
      const err = yield* Effect.flip(
        tokens.exchange(exchangeRequest([chain[0]!, chain[2]!], { toAgent: "auditor" }))
      )
      expectRefusal(err, "E_DELEGATION_CHAIN", "broken_link")
      expect(yield* signatures).toBe(before)
    }).pipe(Effect.provide(Identity))
  )
})
