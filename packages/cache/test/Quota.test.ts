import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { openSessionCache } from "../src/SessionCache.js"
import { makeSessionCacheRegistry } from "../src/SessionCacheRegistry.js"
import { fileBytes, keyFor, tempDir, withRawDb } from "./fixtures.js"

const DIM = 16

describe("tenant quotas (registry)", () => {
  it.scoped("entries are summed over the tenant's open sessions and refused before writing", () =>
    Effect.gen(function* () {
      const registry = yield* makeSessionCacheRegistry({
        rootDir: yield* tempDir,
        tenant: "acme",
        dimension: DIM,
        maxEntries: 3,
        tenantMaxEntries: 4
      })
      const s1 = yield* registry.open("acme", "s1", keyFor("s1"))
      const s2 = yield* registry.open("acme", "s2", keyFor("s2"))
      yield* s1.putSummary("a", "one")
      yield* s1.putSummary("b", "two")
      yield* s2.putSummary("a", "three")
      yield* s2.putDocument({ key: "d", source: "kb", content: "four" })
      expect(registry.tenantUsage()).toMatchObject({ entries: 4, maxEntries: 4 })
      const before = fileBytes(s1.path)
      const refused = yield* Effect.flip(s1.putSummary("c", "five"))
      expect(refused._tag === "QuotaExceeded" && [refused.code, refused.reason, refused.scope]).toEqual([
        "E_QUOTA_EXCEEDED",
        "entries",
        "tenant"
      ])
      expect(fileBytes(s1.path)[0]!.equals(before[0]!)).toBe(true)
      expect(yield* s1.getSummary("c")).toEqual(Option.none())
      // an overwrite adds no entry, so it is still allowed
      yield* s1.putSummary("a", "one, revised")
      // the per-session limit still applies on its own
      yield* registry.destroy("s2")
      expect(registry.tenantUsage().entries).toBe(2)
      yield* s1.putSummary("c", "five")
      const session = yield* Effect.flip(s1.putSummary("d", "six"))
      expect(session._tag === "QuotaExceeded" && [session.reason, session.scope]).toEqual([
        "entries",
        "session"
      ])
    })
  )

  it.scoped("sealed bytes are summed over open sessions; closing a session frees its share", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const registry = yield* makeSessionCacheRegistry({
        rootDir: root,
        tenant: "acme",
        dimension: DIM,
        tenantMaxBytes: 3000
      })
      const s1 = yield* registry.open("acme", "s1", keyFor("s1"))
      const s2 = yield* registry.open("acme", "s2", keyFor("s2"))
      yield* s1.putSummary("big", "x".repeat(1200))
      yield* s2.putSummary("big", "y".repeat(1200))
      const used = registry.tenantUsage()
      expect(used.bytes).toBe((yield* s1.usage()).bytes + (yield* s2.usage()).bytes)
      const refused = yield* Effect.flip(s2.putSummary("more", "z".repeat(800)))
      expect(refused._tag === "QuotaExceeded" && [refused.reason, refused.scope]).toEqual(["bytes", "tenant"])
      expect(registry.tenantUsage()).toEqual(used)
      yield* s1.close()
      expect(registry.tenantUsage().bytes).toBe((yield* s2.usage()).bytes)
      yield* s2.putSummary("more", "z".repeat(800))
      // reopening s1 charges its stored entries to the tenant again
      const again = yield* registry.open("acme", "s1", keyFor("s1"))
      expect(registry.tenantUsage().bytes).toBe((yield* again.usage()).bytes + (yield* s2.usage()).bytes)
      const over = yield* Effect.flip(again.putSummary("x", "w".repeat(800)))
      expect(over._tag === "QuotaExceeded" && over.scope).toBe("tenant")
    })
  )

  it.scoped("rejects tenant limits that are not positive integers", () =>
    Effect.gen(function* () {
      const rootDir = yield* tempDir
      for (const limits of [{ tenantMaxEntries: 0 }, { tenantMaxBytes: -1 }, { tenantMaxEntries: 2.5 }]) {
        const error = yield* Effect.flip(
          makeSessionCacheRegistry({ rootDir, tenant: "acme", dimension: DIM, ...limits })
        )
        expect(error._tag === "CacheError" && error.reason).toBe("invalid-argument")
      }
    })
  )
})

describe("full disk", () => {
  it.scoped("SQLITE_FULL fails the write with QuotaExceeded(disk); the file stays intact and readable", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const open = openSessionCache({
        rootDir: root,
        tenant: "acme",
        session: "s1",
        dimension: DIM,
        dataKey: keyFor("s1"),
        maxFileBytes: 256 * 1024
      })
      const cache = yield* open
      const chunk = "lorem ipsum dolor sit amet ".repeat(150)
      let written = 0
      let failure: unknown
      for (let i = 0; i < 200 && failure === undefined; i++) {
        const result = yield* Effect.either(cache.putSummary(`k${i}`, `${i} ${chunk}`))
        if (result._tag === "Left") failure = result.left
        else written++
      }
      expect(written).toBeGreaterThan(10)
      expect(failure).toMatchObject({ _tag: "QuotaExceeded", code: "E_QUOTA_EXCEEDED", reason: "disk" })
      expect((yield* cache.usage()).entries).toBe(written)
      expect(yield* cache.getSummary(`k${written}`)).toEqual(Option.none())
      // earlier entries are intact; the handle keeps working for reads and deletes
      for (const i of [0, Math.floor(written / 2), written - 1])
        expect(Option.map(yield* cache.getSummary(`k${i}`), (s) => s.text)).toEqual(
          Option.some(`${i} ${chunk}`)
        )
      yield* cache.close()
      const check = yield* withRawDb(
        cache.path,
        (sql) => sql<{ integrity_check: string }>`PRAGMA integrity_check`
      )
      expect(check.map((r) => r.integrity_check)).toEqual(["ok"])
      const reopened = yield* open
      expect((yield* reopened.stats()).summaries).toBe(written)
      expect(Option.isSome(yield* reopened.getSummary("k0"))).toBe(true)
    })
  )

  it.scoped("rejects a maxFileBytes below 64 KiB", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        openSessionCache({
          rootDir: yield* tempDir,
          tenant: "acme",
          session: "s1",
          dimension: DIM,
          dataKey: keyFor("s1"),
          maxFileBytes: 4096
        })
      )
      expect(error._tag === "CacheError" && error.reason).toBe("invalid-argument")
    })
  )
})
