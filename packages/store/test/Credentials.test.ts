import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { afterAll } from "vitest"
import { Credentials, type NewCredential } from "../src/index.js"
import { backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

const cred = (jti: string, overrides: Partial<NewCredential> = {}): NewCredential => ({
  jti,
  tenant: "acme",
  session: "acme-s1",
  task: "t1",
  agent: "triage",
  exp: 1_000,
  ...overrides
})

for (const backend of backends) {
  describe(`Credentials (${backend.name})`, () => {
    it.effect("liveCount counts credentials neither revoked nor expired (exp in seconds, strict >)", () =>
      Effect.gen(function* () {
        const creds = yield* Credentials
        yield* creds.record(cred("j1", { exp: 1_000 }))
        yield* creds.record(cred("j2", { exp: 2_000 }))
        yield* creds.record(cred("g1", { tenant: "globex", session: "globex-s1", task: "tg", exp: 2_000 }))
        expect(yield* creds.liveCount(999)).toBe(3)
        expect(yield* creds.liveCount(1_000)).toBe(2)
        expect(yield* creds.liveCount(1_000, "acme")).toBe(1)
        expect(yield* creds.liveCount(2_000)).toBe(0)
        yield* creds.revoke(["j2"], "task_complete", 5)
        expect(yield* creds.liveCount(999)).toBe(2)
        expect(yield* creds.liveCount(999, "acme")).toBe(1)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("revoke only touches unrevoked jtis and keeps the first revocation", () =>
      Effect.gen(function* () {
        const creds = yield* Credentials
        yield* creds.record(cred("j1"))
        yield* creds.record(cred("j2"))
        expect(yield* creds.revoke(["j1"], "ancestor_revoked", 100)).toEqual(["j1"])
        const again = yield* creds.revoke(["j1", "j2", "j2", "unknown"], "task_complete", 200)
        expect(again).toEqual(["j2"])
        expect(yield* creds.revoke([], "task_complete", 300)).toEqual([])
        expect(yield* creds.listRevoked("acme")).toEqual(["j1", "j2"])
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql`SELECT jti, revoked_at, revoke_reason FROM credentials ORDER BY jti`
        expect(rows).toEqual([
          { jti: "j1", revoked_at: 100, revoke_reason: "ancestor_revoked" },
          { jti: "j2", revoked_at: 200, revoke_reason: "task_complete" }
        ])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("OR-01 revokeTask revokes every live credential of the task and nothing else", () =>
      Effect.gen(function* () {
        const creds = yield* Credentials
        yield* TestClock.adjust(50)
        yield* creds.record(cred("root", { task: "t1" }))
        yield* creds.record(cred("child", { task: "t1", agent: "drafter" }))
        yield* creds.record(cred("other", { task: "t2" }))
        const revoked = yield* creds.revokeTask("t1", "task_complete")
        expect([...revoked].sort()).toEqual(["child", "root"])
        expect(yield* creds.revokeTask("t1", "task_complete")).toEqual([])
        expect(yield* creds.liveCount(0)).toBe(1)
        expect([...(yield* creds.listRevoked("acme"))].sort()).toEqual(["child", "root"])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("listRevoked is per tenant and can drop entries that expired anyway", () =>
      Effect.gen(function* () {
        const creds = yield* Credentials
        yield* creds.record(cred("a-old", { exp: 100 }))
        yield* creds.record(cred("a-new", { exp: 5_000 }))
        yield* creds.record(cred("g", { tenant: "globex", exp: 5_000 }))
        yield* creds.revoke(["a-old", "a-new", "g"], "tenant_offboarded", 10)
        expect([...(yield* creds.listRevoked("acme"))].sort()).toEqual(["a-new", "a-old"])
        expect(yield* creds.listRevoked("acme", 1_000)).toEqual(["a-new"])
        expect(yield* creds.listRevoked("globex")).toEqual(["g"])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("revoke handles more jtis than one statement binds", () =>
      Effect.gen(function* () {
        const creds = yield* Credentials
        const jtis = Array.from({ length: 1_234 }, (_, i) => `j${i}`)
        yield* Effect.forEach(jtis, (jti) => creds.record(cred(jti)), { discard: true })
        expect(yield* creds.liveCount(0)).toBe(1_234)
        expect(yield* creds.revoke(jtis, "task_complete", 1)).toHaveLength(1_234)
        expect(yield* creds.liveCount(0)).toBe(0)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect(
      "select finds a tenant's credentials by task, session, agent or jti, and never another tenant's",
      () =>
        Effect.gen(function* () {
          const creds = yield* Credentials
          yield* creds.record(cred("a1", { task: "t1", session: "s1", agent: "triage", exp: 100 }))
          yield* creds.record(cred("a2", { task: "t1", session: "s1", agent: "summarizer", exp: 90 }))
          yield* creds.record(cred("a3", { task: "t2", session: "s2", agent: "triage", exp: 80 }))
          yield* creds.record(cred("g1", { tenant: "globex", task: "t1", session: "s1", agent: "triage" }))
          yield* creds.revoke(["a1"], "manual", 5)
          const jtis = (sel: Omit<Parameters<typeof creds.select>[0], "tenant">) =>
            Effect.map(creds.select({ tenant: "acme", ...sel }), (rows) => rows.map((r) => r.jti).sort())
          expect(yield* jtis({ task: "t1" })).toEqual(["a1", "a2"])
          expect(yield* jtis({ session: "s2" })).toEqual(["a3"])
          expect(yield* jtis({ agent: "triage" })).toEqual(["a1", "a3"])
          expect(yield* jtis({ jti: "g1" })).toEqual([])
          expect(yield* jtis({})).toEqual(["a1", "a2", "a3"])
          const one = yield* creds.select({ tenant: "acme", jti: "a1" })
          expect(one).toEqual([{ jti: "a1", exp: 100, revoked: true }])
          const all = yield* creds.listRevokedAll(50)
          expect(all).toEqual([{ jti: "a1", tenant: "acme", exp: 100 }])
        }).pipe(Effect.provide(backend.layer()))
    )
  })
}
