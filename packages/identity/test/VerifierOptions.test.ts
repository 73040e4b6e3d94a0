import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Layer } from "effect"
import { KeyRing, RevocationList, TokenService, validateClockTolerance, verifyChain } from "../src/index.js"
import { A, atNow, rootRequest, TestLayer, threeHop, verifyOptions } from "./support.js"

const verifyA = (chain: ReadonlyArray<string>, overrides: Parameters<typeof verifyOptions>[1] = {}) =>
  Effect.gen(function* () {
    const jwks = yield* (yield* TokenService).jwks(A)
    return yield* verifyChain(chain, verifyOptions(jwks, overrides))
  })

const exchangeReq = (chain: ReadonlyArray<string>) => ({
  chain,
  toAgent: "auditor",
  intent: "triage_inbox",
  requestedScopes: ["crm:read"],
  allowedScopes: ["crm:read"],
  ttlSeconds: 60,
  maxDepth: 4,
  trustDomain: "cordon.test"
})

describe("verifyChain: session and task binding", () => {
  it.effect("IP-03 a chain from session S1 presented for session S2 fails with E_SESSION_BINDING", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      expect((yield* verifyA(chain, { session: "sess-1" })).leaf.sid).toBe("sess-1")
      const err = yield* Effect.flip(verifyA(chain, { session: "sess-2" }))
      expect(err).toMatchObject({ _tag: "SessionBindingError", code: "E_SESSION_BINDING", reason: "sid" })
      const tokens = yield* TokenService
      const viaExchange = yield* Effect.flip(tokens.exchange({ ...exchangeReq(chain), session: "sess-2" }))
      expect(viaExchange).toMatchObject({ code: "E_SESSION_BINDING" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("a chain of another root task fails with E_DELEGATION_CHAIN binding when txn is pinned", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      expect((yield* verifyA(chain, { txn: "task-1" })).leaf.txn).toBe("task-1")
      expect(yield* Effect.flip(verifyA(chain, { txn: "task-2" }))).toMatchObject({
        code: "E_DELEGATION_CHAIN",
        reason: "binding"
      })
    }).pipe(Effect.provide(TestLayer))
  )
})

describe("verifyChain: revocation status unknown", () => {
  it.effect(
    "OR-04 a throwing or non-boolean revocation predicate fails closed with E_REVOCATION_UNAVAILABLE",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const { chain } = yield* threeHop
        const predicates: Array<(jti: string) => boolean> = [
          () => {
            throw new Error("store timeout")
          },
          () => undefined as unknown as boolean,
          () => Promise.resolve(false) as unknown as boolean
        ]
        for (const isRevoked of predicates) {
          const exit = yield* Effect.exit(verifyA(chain, { isRevoked }))
          expect(exit).toEqual(
            Exit.fail(
              expect.objectContaining({ _tag: "RevocationUnavailable", code: "E_REVOCATION_UNAVAILABLE" })
            )
          )
        }
      }).pipe(Effect.provide(TestLayer))
  )

  it.effect("OR-04 an exchange whose revocation list throws mints nothing", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest())
      const err = yield* Effect.flip(tokens.exchange(exchangeReq([root.token])))
      expect(err).toMatchObject({ code: "E_REVOCATION_UNAVAILABLE" })
    }).pipe(
      Effect.provide(
        TokenService.layer.pipe(
          Layer.provideMerge(
            Layer.merge(
              KeyRing.layer,
              Layer.succeed(RevocationList, {
                revoke: () => Effect.void,
                isRevoked: () => {
                  throw new Error("unavailable")
                },
                reasonOf: () => undefined,
                snapshot: () => new Set(),
                version: () => 0,
                purge: Effect.succeed(0)
              })
            )
          )
        )
      )
    )
  )
})

describe("clock tolerance validation", () => {
  it("CS-01 validateClockTolerance accepts 0–30 s (default 5) and refuses anything else with E_CONFIG", () => {
    expect(validateClockTolerance(undefined)).toEqual(Either.right(5))
    expect(validateClockTolerance(0)).toEqual(Either.right(0))
    expect(validateClockTolerance(30)).toEqual(Either.right(30))
    for (const bad of [30.5, 600, -1, Number.NaN, Number.POSITIVE_INFINITY, "5" as unknown as number]) {
      expect(validateClockTolerance(bad)).toEqual(
        Either.left(expect.objectContaining({ code: "E_CONFIG", reason: "clock_tolerance" }))
      )
    }
  })

  it.effect(
    "CS-01 TokenService.layerWith refuses a 600 s tolerance or a bad TTL when the layer is built",
    () =>
      Effect.gen(function* () {
        for (const options of [{ clockToleranceSec: 600 }, { maxTtlSeconds: 0 }, { chainCacheEntries: 0 }]) {
          const layer = TokenService.layerWith(options).pipe(
            Layer.provide(Layer.merge(KeyRing.layer, RevocationList.layer))
          )
          const exit = yield* Effect.exit(Layer.build(layer).pipe(Effect.scoped))
          expect(exit).toEqual(Exit.fail(expect.objectContaining({ code: "E_CONFIG" })))
        }
      })
  )
})
