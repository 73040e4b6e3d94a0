import * as fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { sessionCachePath } from "../src/CachePath.js"
import { openSessionCache } from "../src/SessionCache.js"
import { SessionCacheRegistry } from "../src/SessionCacheRegistry.js"
import { fileBytes, keyFor, tempDir, withRawDb } from "./fixtures.js"

const DIM = 32
const open = (rootDir: string, session: string, dataKey: Uint8Array) =>
  openSessionCache({ rootDir, tenant: "acme", session, dimension: DIM, dataKey })
/** A vector whose raw float32 bytes are distinctive (no zero runs). */
const knownVector = Float32Array.from({ length: DIM }, (_, i) => Math.sin(i + 1) * 0.37)
const rawVector = Buffer.from(knownVector.buffer, knownVector.byteOffset, knownVector.byteLength)
const pathOf = (root: string, session: string) => Effect.orDie(sessionCachePath(root, "acme", session))

/** Copies `table`'s row `key` of session `from` into session `to` (as `asKey` / `asTable`). */
const copyRow = (
  root: string,
  from: string,
  to: string,
  table: "summaries" | "embeddings" | "documents",
  key: string,
  target: { readonly asKey?: string; readonly asTable?: string } = {}
) =>
  Effect.gen(function* () {
    const source = yield* withRawDb(
      yield* pathOf(root, from),
      (sql) =>
        sql<{
          value: Uint8Array
          expires_at: number
        }>`SELECT value, expires_at FROM ${sql(table)} WHERE key = ${key}`
    )
    expect(source).toHaveLength(1)
    // replaces the target row in place (keys are unique per table; a duplicate key refuses the file)
    yield* withRawDb(yield* pathOf(root, to), (sql) =>
      sql.withTransaction(
        Effect.zipRight(
          sql`DELETE FROM ${sql(target.asTable ?? table)} WHERE key = ${target.asKey ?? key}`,
          sql`INSERT INTO ${sql(target.asTable ?? table)} (key, value, expires_at)
            VALUES (${target.asKey ?? key}, ${source[0]!.value}, ${source[0]!.expires_at})`
        )
      )
    )
  }).pipe(Effect.orDie)

const fillSession = (root: string, session: string, dataKey: Uint8Array, canary: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const cache = yield* open(root, session, dataKey)
      yield* cache.putSummary("sum", `summary ${canary}`, { note: canary })
      yield* cache.putEmbedding("emb", knownVector, { text: canary })
      yield* cache.putDocument({
        key: "doc",
        source: `https://x.test/${canary}`,
        content: canary,
        taskId: "t1"
      })
    })
  )

describe("SessionCache encryption at rest", () => {
  it.scoped("MC-04 database, -wal and -shm hold neither a canary text nor a vector's raw bytes", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const canary = "CANARY-sealed-4b1d-customer-iban-DE00"
      const cache = yield* open(root, "s1", keyFor("s1"))
      yield* cache.putSummary("sum", `summary ${canary}`, { note: canary })
      yield* cache.putEmbedding("emb", knownVector, { text: canary })
      yield* cache.putDocument({ key: "doc", source: `https://x.test/${canary}`, content: canary })
      const files = fileBytes(cache.path)
      expect(files.map((bytes) => bytes.byteLength > 0)).toEqual([true, true, true])
      for (const bytes of files) {
        expect(bytes.includes(Buffer.from(canary, "utf8"))).toBe(false)
        expect(bytes.includes(rawVector)).toBe(false)
        expect(bytes.includes(rawVector.subarray(0, 12))).toBe(false)
      }
      // the raw vector bytes would be found if stored in clear: the scan can fail
      expect(Buffer.concat([files[1]!, rawVector]).includes(rawVector)).toBe(true)
      const hits = yield* cache.search(knownVector, 1)
      expect(hits.map((h) => [h.key, h.meta])).toEqual([["emb", { text: canary }]])
      // The leak probe sees through the seal: summary text + meta, embedding meta, document source + content.
      expect(yield* cache.countOccurrences([canary, "absent-needle", ""])).toEqual([5, 0, 0])
    })
  )

  it.scoped("reopening with the same key reads back every value, search included", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* fillSession(root, "s1", keyFor("s1"), "kept")
      const cache = yield* open(root, "s1", keyFor("s1"))
      expect(Option.map(yield* cache.getSummary("sum"), (s) => [s.text, s.meta])).toEqual(
        Option.some(["summary kept", { note: "kept" }])
      )
      expect(Option.map(yield* cache.getDocument("doc"), (d) => [d.source, d.content, d.taskId])).toEqual(
        Option.some(["https://x.test/kept", "kept", "t1"])
      )
      const hits = yield* cache.search(knownVector, 5)
      expect(hits.map((h) => [h.key, h.meta])).toEqual([["emb", { text: "kept" }]])
      expect(hits[0]!.score).toBeCloseTo(1, 6)
      expect(yield* cache.stats()).toEqual({ summaries: 1, embeddings: 1, documents: 1 })
    })
  )

  it.scoped("MC-01 a row copied into another session's file (other key) fails with corrupt", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* fillSession(root, "s1", keyFor("s1"), "from-s1")
      yield* fillSession(root, "s2", keyFor("s2"), "s2-own")
      yield* copyRow(root, "s1", "s2", "summaries", "sum")
      yield* copyRow(root, "s1", "s2", "documents", "doc")
      const s2 = yield* Effect.scoped(
        Effect.gen(function* () {
          const cache = yield* open(root, "s2", keyFor("s2"))
          const errors = [
            yield* Effect.flip(cache.getSummary("sum")),
            yield* Effect.flip(cache.getDocument("doc"))
          ]
          expect(errors.map((e) => [e._tag, e.reason])).toEqual([
            ["CacheError", "corrupt"],
            ["CacheError", "corrupt"]
          ])
          return cache
        })
      )
      expect(s2.isOpen()).toBe(false)
      // an embedding row is decrypted at open: the whole open fails, no index is built
      yield* copyRow(root, "s1", "s2", "embeddings", "emb")
      const error = yield* Effect.flip(open(root, "s2", keyFor("s2")))
      expect(error._tag === "CacheError" && error.reason).toBe("corrupt")
    })
  )

  it.scoped("MC-01 with the same key, the session id in the AAD still refuses a copied row", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const shared = keyFor("shared")
      yield* fillSession(root, "s1", shared, "from-s1")
      yield* fillSession(root, "s2", shared, "s2-own")
      yield* copyRow(root, "s1", "s2", "summaries", "sum")
      const cache = yield* open(root, "s2", shared)
      const error = yield* Effect.flip(cache.getSummary("sum"))
      expect([error._tag, error.code, error.reason]).toEqual(["CacheError", "E_CACHE", "corrupt"])
      expect(Option.isSome(yield* cache.getDocument("doc"))).toBe(true)
    })
  )

  it.scoped("a value moved to another entry key or namespace in the same file fails with corrupt", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* fillSession(root, "s1", keyFor("s1"), "moved")
      yield* copyRow(root, "s1", "s1", "summaries", "sum", { asKey: "other" })
      yield* copyRow(root, "s1", "s1", "summaries", "sum", { asTable: "documents", asKey: "sum" })
      const cache = yield* open(root, "s1", keyFor("s1"))
      expect((yield* Effect.flip(cache.getSummary("other"))).reason).toBe("corrupt")
      expect((yield* Effect.flip(cache.getDocument("sum"))).reason).toBe("corrupt")
      expect(Option.map(yield* cache.getSummary("sum"), (s) => s.text)).toEqual(Option.some("summary moved"))
    })
  )

  it.scoped("a wrong key, or the file moved to another session's path, fails to open with corrupt", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* fillSession(root, "s1", keyFor("s1"), "secret-data")
      const wrong = yield* Effect.flip(open(root, "s1", keyFor("not-s1")))
      expect(wrong._tag === "CacheError" && [wrong.code, wrong.reason]).toEqual(["E_CACHE", "corrupt"])
      const p1 = yield* pathOf(root, "s1")
      fs.copyFileSync(p1, yield* pathOf(root, "s3"))
      const moved = yield* Effect.flip(open(root, "s3", keyFor("s1")))
      expect(moved._tag === "CacheError" && moved.reason).toBe("corrupt")
      const right = yield* open(root, "s1", keyFor("s1"))
      expect((yield* right.stats()).summaries).toBe(1)
    })
  )

  it.scoped("rejects a data key that is not 32 bytes, before creating any file", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      for (const bad of [new Uint8Array(16), new Uint8Array(33), new Uint8Array(0), "k".repeat(32)]) {
        const error = yield* Effect.flip(open(root, "s1", bad as Uint8Array))
        expect(error._tag === "CacheError" && error.reason).toBe("invalid-argument")
      }
      expect(fs.readdirSync(root)).toEqual([])
      const ok = yield* open(root, "s1", Buffer.alloc(32, 1))
      expect(ok.isOpen()).toBe(true)
    })
  )

  it.scoped("registry: open takes the data key, checks its size and refuses another key", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* Effect.provide(
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const bad = yield* Effect.flip(registry.open("acme", "s1", new Uint8Array(31)))
          expect(bad._tag === "CacheError" && bad.reason).toBe("invalid-argument")
          const cache = yield* registry.open("acme", "s1", keyFor("s1"))
          yield* cache.putSummary("k", "v")
          expect((yield* registry.open("acme", "s1", keyFor("s1"))) === cache).toBe(true)
          const other = yield* Effect.flip(registry.open("acme", "s1", keyFor("s2")))
          expect(other._tag === "CacheError" && other.reason).toBe("corrupt")
          yield* cache.close()
          const reopened = yield* Effect.flip(registry.open("acme", "s1", keyFor("s2")))
          expect(reopened._tag === "CacheError" && reopened.reason).toBe("corrupt")
        }),
        SessionCacheRegistry.layer({ rootDir: root, tenant: "acme", dimension: DIM })
      )
    })
  )
})
