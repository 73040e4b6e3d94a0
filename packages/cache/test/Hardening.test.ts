import * as fs from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { afterEach, vi } from "vitest"
import { bindSession } from "../src/CacheBinding.js"
import { sessionCacheFiles, sessionCachePath } from "../src/CachePath.js"
import { ALL_SQL } from "../src/internal/rows.js"
import { openSessionCache } from "../src/SessionCache.js"
import { makeSessionCacheRegistry } from "../src/SessionCacheRegistry.js"
import { exists, filesContaining, keyFor, tempDir, withRawDb } from "./fixtures.js"

const DIM = 8
const vector = Float32Array.from({ length: DIM }, (_, i) => i + 1)
const open = (rootDir: string, tenant = "acme", session = "s1", dataKey = keyFor(`${tenant}/${session}`)) =>
  openSessionCache({ rootDir, tenant, session, dimension: DIM, dataKey, maxFileBytes: 1 << 20 })

afterEach(() => {
  vi.restoreAllMocks()
})

describe("no SQL built from input, no ATTACH", () => {
  it.scoped(
    "every SQL text the cache runs is a constant; hostile input only ever travels as parameters",
    () =>
      Effect.gen(function* () {
        const root = yield* tempDir
        const evil = join(root, "evil.sqlite")
        const attack = `x'); ATTACH DATABASE '${evil}' AS evil; CREATE TABLE evil.t(x); --`
        const prepared: Array<string> = []
        const prepare = Database.prototype.prepare
        vi.spyOn(Database.prototype, "prepare").mockImplementation(function (
          this: Database.Database,
          source: string
        ) {
          prepared.push(source)
          return prepare.call(this, source) as ReturnType<typeof prepare>
        })
        const exec = Database.prototype.exec
        vi.spyOn(Database.prototype, "exec").mockImplementation(function (
          this: Database.Database,
          source: string
        ) {
          prepared.push(source)
          return exec.call(this, source)
        })
        const cache = yield* open(root)
        yield* cache.putSummary(attack, attack, { [attack]: attack }, { taskId: attack, source: attack })
        yield* cache.putEmbedding(attack, vector, { attack }, { taskId: attack })
        yield* cache.putDocument({ key: attack, source: attack, content: attack, taskId: attack })
        expect(Option.map(yield* cache.getSummary(attack), (s) => s.text)).toEqual(Option.some(attack))
        expect(Option.map(yield* cache.getDocument(attack), (d) => d.source)).toEqual(Option.some(attack))
        expect((yield* cache.search(vector, 1)).map((h) => h.key)).toEqual([attack])
        // summary: text, meta key and value, source, task id; embedding: meta value, task id; document: 3
        expect(yield* cache.countOccurrences([attack])).toEqual([10])
        expect(yield* cache.purgeByTask(attack)).toBe(3)
        yield* cache.purgeExpired()
        yield* cache.stats()
        yield* cache.close()

        const allowed = new Set([...ALL_SQL, ...ALL_SQL.map((s) => `PRAGMA ${s}`)])
        const unexpected = prepared.filter(
          (s) => !allowed.has(s) && !/^PRAGMA (page_size|max_page_count = \d+)$/.test(s)
        )
        expect(unexpected).toEqual([])
        expect(prepared.length).toBeGreaterThan(20)
        expect(prepared.some((s) => s.includes(attack) || /attach/i.test(s))).toBe(false)
        expect(exists(evil)).toBe(false)
        const databases = yield* withRawDb(cache.path, (sql) => sql<{ name: string }>`PRAGMA database_list`)
        expect(databases.map((d) => d.name)).toEqual(["main"])
      })
  )

  it.scoped(
    "a file with a planted trigger, view, table or duplicated key does not open (nothing of it runs)",
    () =>
      Effect.gen(function* () {
        const root = yield* tempDir
        const cache = yield* open(root)
        yield* cache.putSummary("k", "v")
        yield* cache.close()
        for (const ddl of [
          "CREATE TRIGGER spy AFTER INSERT ON summaries BEGIN INSERT INTO documents VALUES (new.key, new.value, 0, NULL); END",
          "CREATE VIEW peek AS SELECT * FROM summaries",
          "CREATE TABLE extra (x)"
        ]) {
          yield* withRawDb(cache.path, (sql) => sql.unsafe(ddl)).pipe(Effect.orDie)
          const error = yield* Effect.flip(open(root))
          expect(error._tag === "CacheError" && error.reason).toBe("corrupt")
          const name = /(TRIGGER|VIEW|TABLE) (\w+)/.exec(ddl)![2]!
          const kind = /(TRIGGER|VIEW|TABLE)/.exec(ddl)![1]!
          yield* withRawDb(cache.path, (sql) => sql.unsafe(`DROP ${kind} ${name}`)).pipe(Effect.orDie)
        }
        // a key held twice (a row duplicated into the file) refuses the file too
        yield* withRawDb(cache.path, (sql) =>
          sql.unsafe(
            "INSERT INTO summaries (key, value, expires_at) SELECT key, value, expires_at FROM summaries"
          )
        ).pipe(Effect.orDie)
        const duplicated = yield* Effect.flip(open(root))
        expect(duplicated._tag === "CacheError" && duplicated.reason).toBe("corrupt")
        yield* withRawDb(cache.path, (sql) =>
          sql.unsafe("DELETE FROM summaries WHERE id > (SELECT min(id) FROM summaries)")
        ).pipe(Effect.orDie)
        const clean = yield* open(root)
        expect((yield* clean.stats()).summaries).toBe(1)
      })
  )
})

describe("paths only from validated ids", () => {
  it.scoped("registry operations refuse traversal before touching the file system", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const registry = yield* makeSessionCacheRegistry({ rootDir: root, tenant: "acme", dimension: DIM })
      const outside = join(root, "tenants", "acme", "victim.sqlite")
      fs.mkdirSync(dirname(outside), { recursive: true })
      fs.writeFileSync(outside, "keep me")
      for (const session of ["../victim", "..", "s1/../../x", "S1", "s1\u0000", ""]) {
        const opened = yield* Effect.flip(registry.open("acme", session, keyFor("x")))
        expect(opened._tag, session).toBe("InvalidIdentifier")
        const destroyed = yield* Effect.flip(registry.destroy(session))
        expect(destroyed._tag, session).toBe("InvalidIdentifier")
      }
      expect(fs.readFileSync(outside, "utf8")).toBe("keep me")
      expect(fs.readdirSync(join(root, "tenants", "acme"))).toEqual(["victim.sqlite"])
    })
  )

  it.scoped(
    "acceptance: tenant A's session file copied to tenant B's session path yields a typed error, never data",
    () =>
      Effect.gen(function* () {
        const root = yield* tempDir
        const canary = "CANARY-tenant-a-9d2f"
        yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* open(root, "tenant-a", "s1")
            yield* a.putSummary("k", canary)
            yield* a.putEmbedding("k", vector, { canary })
          })
        )
        const from = Effect.runSync(sessionCachePath(root, "tenant-a", "s1"))
        const to = Effect.runSync(sessionCachePath(root, "tenant-b", "s9"))
        fs.mkdirSync(dirname(to), { recursive: true, mode: 0o700 })
        sessionCacheFiles(from).forEach((file, i) => {
          if (exists(file)) fs.copyFileSync(file, sessionCacheFiles(to)[i]!)
        })
        // B's own key, and even A's key: the AAD binds tenant and session
        for (const dataKey of [keyFor("tenant-b/s9"), keyFor("tenant-a/s1")]) {
          const error = yield* Effect.flip(open(root, "tenant-b", "s9", dataKey))
          expect(error._tag === "CacheError" && [error.code, error.reason]).toEqual(["E_CACHE", "corrupt"])
          expect(JSON.stringify(error)).not.toContain(canary)
        }
        expect(filesContaining(join(root, "tenants"), canary)).toEqual([])
      })
  )
})

describe("session binding (MC-01)", () => {
  it.scoped("code bound to one session cannot reach another session's cache, even in the same tenant", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const registry = yield* makeSessionCacheRegistry({ rootDir: root, tenant: "acme", dimension: DIM })
      const s1 = yield* registry.open("acme", "s1", keyFor("s1"))
      yield* s1.putSummary("k", "s1 canary")
      yield* registry.open("acme", "s2", keyFor("s2"))
      const asS2 = bindSession("acme", "s2")
      const attempts = yield* asS2(
        Effect.all([
          Effect.flip(registry.get("s1")),
          Effect.flip(registry.open("acme", "s1", keyFor("s1"))),
          Effect.flip(registry.destroy("s1")),
          Effect.flip(registry.destroyAll()),
          Effect.flip(open(root, "acme", "s1", keyFor("s1"))),
          // rebinding itself to s1 does not widen the binding
          Effect.flip(bindSession("acme", "s1")(registry.get("s1")))
        ])
      )
      expect(
        attempts.map((e) => [
          e._tag,
          e._tag === "CacheScopeError" ? e.code : "",
          e._tag === "CacheScopeError" ? e.reason : ""
        ])
      ).toEqual(Array(6).fill(["CacheScopeError", "E_CACHE_SCOPE", "session-mismatch"]))
      const own = yield* asS2(registry.get("s2"))
      expect(own.session).toBe("s2")
      const tenant = yield* bindSession("other", "s2")(Effect.flip(registry.get("s2")))
      expect([tenant.code, tenant.reason]).toEqual(["E_TENANT_MISMATCH", "tenant-mismatch"])
      // unbound (the worker's own handlers) nothing changed: s1 is open and intact
      expect(Option.map(yield* (yield* registry.get("s1")).getSummary("k"), (s) => s.text)).toEqual(
        Option.some("s1 canary")
      )
    })
  )
})
