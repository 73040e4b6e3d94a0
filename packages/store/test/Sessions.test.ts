import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { afterAll } from "vitest"
import { Sessions } from "../src/index.js"
import { backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

for (const backend of backends) {
  describe(`Sessions (${backend.name})`, () => {
    it.effect("create returns the open session and get finds it for its own tenant", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* TestClock.adjust(5)
        const s = yield* sessions.create({ id: "s1", tenant: "acme", userId: "u1", expiresAt: 60_000 })
        expect(s).toEqual({
          id: "s1",
          tenant: "acme",
          userId: "u1",
          status: "open",
          createdAt: 5,
          expiresAt: 60_000,
          endedAt: null
        })
        expect(yield* sessions.get("acme", "s1")).toEqual(Option.some(s))
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("IP-01 store reads: another tenant's session is not found and cannot be ended", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* sessions.create({ id: "victim-s", tenant: "globex", userId: "u9", expiresAt: 60_000 })
        expect(Option.isNone(yield* sessions.get("acme", "victim-s"))).toBe(true)
        expect(yield* sessions.end("acme", "victim-s")).toBe(false)
        const still = yield* sessions.get("globex", "victim-s")
        expect(Option.map(still, (s) => s.status)).toEqual(Option.some("open"))
        expect(yield* sessions.listOpen("acme")).toEqual([])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("end is idempotent and keeps the first endedAt", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* sessions.create({ id: "s1", tenant: "acme", userId: "u1", expiresAt: 60_000 })
        yield* TestClock.adjust(100)
        expect(yield* sessions.end("acme", "s1")).toBe(true)
        yield* TestClock.adjust(100)
        expect(yield* sessions.end("acme", "s1")).toBe(false)
        const ended = yield* sessions.get("acme", "s1")
        expect(Option.map(ended, (s) => [s.status, s.endedAt])).toEqual(Option.some(["ended", 100]))
        expect(yield* sessions.end("acme", "unknown")).toBe(false)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("listOpen lists only open sessions, per tenant or for all", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* sessions.create({ id: "a1", tenant: "acme", userId: "u1", expiresAt: 60_000 })
        yield* TestClock.adjust(1)
        yield* sessions.create({ id: "a2", tenant: "acme", userId: "u2", expiresAt: 60_000 })
        yield* TestClock.adjust(1)
        yield* sessions.create({ id: "g1", tenant: "globex", userId: "u3", expiresAt: 60_000 })
        yield* sessions.end("acme", "a1")
        expect((yield* sessions.listOpen("acme")).map((s) => s.id)).toEqual(["a2"])
        expect((yield* sessions.listOpen("globex")).map((s) => s.id)).toEqual(["g1"])
        expect((yield* sessions.listOpen()).map((s) => s.id)).toEqual(["a2", "g1"])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("a duplicate session id fails with SqlError, whoever the tenant", () =>
      Effect.gen(function* () {
        const sessions = yield* Sessions
        yield* sessions.create({ id: "s1", tenant: "globex", userId: "u1", expiresAt: 60_000 })
        const error = yield* Effect.flip(
          sessions.create({ id: "s1", tenant: "acme", userId: "u2", expiresAt: 60_000 })
        )
        expect(error._tag).toBe("SqlError")
        const victim = yield* sessions.get("globex", "s1")
        expect(Option.map(victim, (s) => s.userId)).toEqual(Option.some("u1"))
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
