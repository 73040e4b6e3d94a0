import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { sessionCacheFiles } from "../src/CachePath.js"
import { featureHashEmbedder } from "../src/Embedder.js"
import { openSessionCache } from "../src/SessionCache.js"
import { exists, filesContaining, keyFor, tempDir } from "./fixtures.js"

const DIM = 64
const embedder = featureHashEmbedder(DIM)
const open = (rootDir: string, session = "s1", dimension = DIM) =>
  openSessionCache({ rootDir, tenant: "acme", session, dimension, dataKey: keyFor(session) })

describe("SessionCache", () => {
  it.scoped("search returns the nearest embeddings first, with their metadata", () =>
    Effect.gen(function* () {
      const cache = yield* open(yield* tempDir)
      const texts = {
        refund: "customer asks for a refund of the broken blender order",
        shipping: "parcel shipping delayed at the customs office",
        weather: "sunny weather expected in lisbon all week"
      }
      for (const [key, text] of Object.entries(texts))
        yield* cache.putEmbedding(key, embedder.embed(text), { key })
      const hits = yield* cache.search(embedder.embed("refund for my broken blender"), 3)
      expect(hits.map((h) => h.key)[0]).toBe("refund")
      expect(hits[0]!.meta).toEqual({ key: "refund" })
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score)
      expect(hits[1]!.score).toBeGreaterThanOrEqual(hits[2]!.score)
      expect(yield* cache.search(embedder.embed("shipping delayed at customs"), 1)).toEqual([
        expect.objectContaining({ key: "shipping" })
      ])
      expect(yield* cache.search(embedder.embed("anything"), 0)).toEqual([])
    })
  )

  it.scoped("stores summaries and documents with provenance; writes are upserts", () =>
    Effect.gen(function* () {
      const cache = yield* open(yield* tempDir)
      yield* cache.putSummary("turn-1", "first draft", { turn: 1 })
      yield* cache.putSummary("turn-1", "customer wants a refund", { turn: 1, trust: "untrusted" })
      const summary = yield* cache.getSummary("turn-1")
      expect(Option.map(summary, (s) => [s.text, s.meta])).toEqual(
        Option.some(["customer wants a refund", { turn: 1, trust: "untrusted" }])
      )
      expect(yield* cache.getSummary("missing")).toEqual(Option.none())
      yield* cache.putDocument({
        key: "doc",
        source: "https://example.test/p",
        content: "page",
        taskId: "t1",
        retrievedAt: 42
      })
      yield* cache.putDocument({ key: "doc2", source: "kb", content: "kb text", trust: "trusted" })
      const doc = yield* cache.getDocument("doc")
      expect(doc).toEqual(
        Option.some({
          key: "doc",
          source: "https://example.test/p",
          content: "page",
          taskId: "t1",
          retrievedAt: 42,
          contentHash: `sha256:${createHash("sha256").update("page").digest("hex")}`,
          trust: "untrusted",
          expiresAt: expect.any(Number)
        })
      )
      expect(Option.map(yield* cache.getDocument("doc2"), (d) => [d.taskId, d.trust])).toEqual(
        Option.some([null, "trusted"])
      )
      expect(yield* cache.stats()).toEqual({ summaries: 1, embeddings: 0, documents: 2 })
    })
  )

  it.scoped("keeps its data across close and reopen, including the vector index", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const first = yield* open(root)
      yield* first.putSummary("k", "kept summary")
      yield* first.putEmbedding("e", embedder.embed("kept embedding text"), { n: 1 })
      yield* first.putDocument({ key: "d", source: "s", content: "c" })
      yield* first.close()
      yield* first.close()
      expect(first.isOpen()).toBe(false)
      const error = yield* Effect.flip(first.getSummary("k"))
      expect([error.code, error.reason]).toEqual(["E_CACHE", "closed"])

      const second = yield* open(root)
      expect(Option.map(yield* second.getSummary("k"), (s) => s.text)).toEqual(Option.some("kept summary"))
      const hits = yield* second.search(embedder.embed("kept embedding text"), 1)
      expect(hits.map((h) => [h.key, h.meta])).toEqual([["e", { n: 1 }]])
      expect(hits[0]!.score).toBeCloseTo(1, 5)
      expect(yield* second.stats()).toEqual({ summaries: 1, embeddings: 1, documents: 1 })
    })
  )

  it.scoped("rejects vectors of the wrong dimension and files created with another dimension", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const cache = yield* open(root)
      const put = yield* Effect.flip(cache.putEmbedding("e", new Float32Array(DIM + 1)))
      expect([put._tag, put.code, put.reason]).toEqual(["CacheError", "E_CACHE", "dimension"])
      const search = yield* Effect.flip(cache.search(new Float32Array(DIM - 1), 1))
      expect(search.reason).toBe("dimension")
      expect((yield* cache.stats()).embeddings).toBe(0)
      yield* cache.close()
      const reopen = yield* Effect.flip(open(root, "s1", DIM * 2))
      expect(reopen._tag === "CacheError" && reopen.reason).toBe("dimension")
    })
  )

  it.scoped("rejects bad keys, metadata, vector values and k", () =>
    Effect.gen(function* () {
      const cache = yield* open(yield* tempDir)
      const reasons = yield* Effect.all([
        Effect.flip(cache.putSummary("", "x")),
        Effect.flip(cache.putSummary("k".repeat(1025), "x")),
        Effect.flip(cache.putSummary("k", "x", [1] as unknown as Record<string, unknown>)),
        Effect.flip(cache.putEmbedding("k", new Float32Array(DIM).fill(Number.NaN))),
        Effect.flip(cache.search(new Float32Array(DIM), -1)),
        Effect.flip(cache.search(new Float32Array(DIM), 1.5))
      ])
      expect(reasons.map((e) => e.reason)).toEqual(Array(6).fill("invalid-argument"))
      expect(yield* cache.stats()).toEqual({ summaries: 0, embeddings: 0, documents: 0 })
    })
  )

  it.scoped(
    "creates a private directory (0700) and file (0600); refuses identifiers that could traverse",
    () =>
      Effect.gen(function* () {
        const root = yield* tempDir
        const cache = yield* open(root)
        expect(cache.path).toBe(join(root, "tenants", "acme", "sessions", "s1.sqlite"))
        expect(fs.statSync(join(root, "tenants", "acme", "sessions")).mode & 0o777).toBe(0o700)
        expect(fs.statSync(join(root, "tenants", "acme")).mode & 0o777).toBe(0o700)
        expect(fs.statSync(cache.path).mode & 0o777).toBe(0o600)
        for (const session of ["../x", "A", "a/b"]) {
          const error = yield* Effect.flip(open(root, session))
          expect(error._tag === "InvalidIdentifier" && error.code).toBe("E_INVALID_IDENTIFIER")
        }
        expect(fs.readdirSync(join(root, "tenants", "acme", "sessions"))).not.toContain("x.sqlite")
        expect(fs.readdirSync(root)).toEqual(["tenants"])
      })
  )

  it.scoped("refuses a symbolic link in place of the sessions directory", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const elsewhere = join(root, "elsewhere")
      fs.mkdirSync(elsewhere)
      fs.mkdirSync(join(root, "tenants", "acme"), { recursive: true })
      fs.symlinkSync(elsewhere, join(root, "tenants", "acme", "sessions"))
      const error = yield* Effect.flip(open(root))
      expect(error._tag === "CacheError" && error.reason).toBe("io")
      expect(fs.readdirSync(elsewhere)).toEqual([])
    })
  )

  it.scoped("fails with a typed error, not a defect, on a file that is not a database", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const dir = join(root, "tenants", "acme", "sessions")
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(join(dir, "s1.sqlite"), Buffer.alloc(4096, 7))
      const error = yield* Effect.flip(open(root))
      expect(error._tag === "CacheError" && error.reason).toBe("sql")
    })
  )

  it.scoped("MC-04 destroy deletes the file, -wal and -shm and leaves no trace of a canary", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const canary = "CANARY-7f3a9c-poison-always-bcc-x@evil.test"
      const cache = yield* open(root)
      yield* cache.putSummary("poison", `summary ${canary}`, { note: canary })
      yield* cache.putEmbedding("poison", embedder.embed(canary), { text: canary })
      yield* cache.putDocument({ key: "poison", source: `https://evil.test/${canary}`, content: canary })
      const files = sessionCacheFiles(cache.path)
      expect(files.map(exists)).toEqual([true, true, true])
      // sealed at rest: the data is there, its bytes are not
      expect(filesContaining(root, canary)).toEqual([])
      expect(Option.map(yield* cache.getSummary("poison"), (s) => s.text)).toEqual(
        Option.some(`summary ${canary}`)
      )

      yield* cache.destroy()
      expect(files.map(exists)).toEqual([false, false, false])
      expect(filesContaining(root, canary)).toEqual([])
      expect(cache.isOpen()).toBe(false)
      yield* cache.destroy()
      expect((yield* Effect.flip(cache.search(embedder.embed(canary), 1))).reason).toBe("closed")

      const fresh = yield* open(root)
      expect(yield* fresh.stats()).toEqual({ summaries: 0, embeddings: 0, documents: 0 })
      expect(yield* fresh.search(embedder.embed(canary), 5)).toEqual([])
    })
  )

  it.scoped("closing the opening scope closes the cache but keeps the file", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const cache = yield* Effect.scoped(Effect.tap(open(root), (c) => c.putSummary("k", "v")))
      expect(cache.isOpen()).toBe(false)
      expect(exists(cache.path)).toBe(true)
      expect((yield* Effect.flip(cache.stats())).reason).toBe("closed")
      const reopened = yield* open(root)
      expect((yield* reopened.stats()).summaries).toBe(1)
    })
  )
})
