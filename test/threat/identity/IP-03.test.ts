/**
 * IP-03 — a token from session S1 is reused in S2 of the same tenant. The verifier compares every
 * link's `sid` with the caller's session, which the supervisor supplies (never the request).
 */
import { TokenService, verifyChain } from "@cordon/identity"
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

describe("IP-03 session binding", () => {
  it.effect("IP-03 a chain minted for S1 presented from S2 fails with SessionBindingError", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      expect((yield* verifyChain(chain, yield* verifyOptions({ session: "sess-1" }))).leaf.sid).toBe("sess-1")
      const err = yield* Effect.flip(verifyChain(chain, yield* verifyOptions({ session: "sess-2" })))
      expectRefusal(err, "E_SESSION_BINDING", "sid")
      expect(err._tag).toBe("SessionBindingError")
    }).pipe(Effect.provide(Identity))
  )

  it.effect("IP-03 a handoff requested from S2 with S1's chain mints no token", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const { chain } = yield* threeHop
      const before = yield* signatures
      const err = yield* Effect.flip(
        tokens.exchange(exchangeRequest(chain, { session: "sess-2", toAgent: "auditor" }))
      )
      expectRefusal(err, "E_SESSION_BINDING", "sid")
      expect(yield* signatures).toBe(before)
      const same = yield* tokens.exchange(exchangeRequest(chain, { session: "sess-1", toAgent: "auditor" }))
      expect(same.claims.sid).toBe("sess-1")
    }).pipe(Effect.provide(Identity))
  )
})
