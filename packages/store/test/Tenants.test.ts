import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { afterAll } from "vitest"
import { Tenants } from "../src/index.js"
import { backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

for (const backend of backends) {
  describe(`Tenants (${backend.name})`, () => {
    it.effect("upsert creates an active tenant and renames without touching status or createdAt", () =>
      Effect.gen(function* () {
        const tenants = yield* Tenants
        yield* TestClock.adjust(1000)
        const created = yield* tenants.upsert({ id: "acme", name: "Acme" })
        expect(created).toEqual({ id: "acme", name: "Acme", status: "active", createdAt: 1000 })
        expect(yield* tenants.setStatus("acme", "suspended")).toBe(true)
        yield* TestClock.adjust(1000)
        const renamed = yield* tenants.upsert({ id: "acme", name: "Acme Corp" })
        expect(renamed).toEqual({ id: "acme", name: "Acme Corp", status: "suspended", createdAt: 1000 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("get of an unknown tenant is None; setStatus of an unknown tenant reports false", () =>
      Effect.gen(function* () {
        const tenants = yield* Tenants
        expect(Option.isNone(yield* tenants.get("nobody"))).toBe(true)
        expect(yield* tenants.setStatus("nobody", "suspended")).toBe(false)
        expect(Option.isNone(yield* tenants.get("nobody"))).toBe(true)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("listByStatus lists exactly the tenants in that status", () =>
      Effect.gen(function* () {
        const tenants = yield* Tenants
        for (const id of ["b", "a", "c"]) yield* tenants.upsert({ id, name: id })
        yield* tenants.setStatus("c", "suspended")
        yield* tenants.setStatus("a", "suspended")
        expect((yield* tenants.listByStatus("suspended")).map((t) => t.id)).toEqual(["a", "c"])
        expect((yield* tenants.listByStatus("active")).map((t) => t.id)).toEqual(["b"])
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
