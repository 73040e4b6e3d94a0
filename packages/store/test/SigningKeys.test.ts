import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as ControlPlane from "../src/ControlPlane.js"
import { type SigningKeyRow, SigningKeys } from "../src/SigningKeys.js"

const run = <A, E>(effect: Effect.Effect<A, E, SigningKeys>) =>
  Effect.runPromise(effect.pipe(Effect.provide(SigningKeys.layer), Effect.provide(ControlPlane.layerMemory)))

const row = (kid: string, activatedAt: number): SigningKeyRow => ({
  tenant: "acme",
  kid,
  createdAt: activatedAt,
  activatedAt,
  retiredAt: null,
  compromised: false,
  wrapped: `wrapped-${kid}`
})

describe("SigningKeys", () => {
  it("saves, loads in activation order, updates lifecycle fields, never crosses tenants", async () => {
    const rows = await run(
      Effect.gen(function* () {
        const keys = yield* SigningKeys
        yield* keys.save(row("k2", 2000))
        yield* keys.save(row("k1", 1000))
        yield* keys.save({ ...row("k9", 500), tenant: "globex" })
        yield* keys.update({ ...row("k1", 1000), retiredAt: 3000, compromised: true, wrapped: "ignored" })
        return yield* keys.load("acme")
      })
    )
    expect(rows.map((r) => r.kid)).toEqual(["k1", "k2"])
    expect(rows[0]).toMatchObject({ retiredAt: 3000, compromised: true, wrapped: "wrapped-k1" })
  })

  it("refuses a duplicate (tenant, kid)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const keys = yield* SigningKeys
        yield* keys.save(row("k1", 1))
        return yield* Effect.either(keys.save(row("k1", 2)))
      })
    )
    expect(result._tag).toBe("Left")
  })
})
