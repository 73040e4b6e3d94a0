import * as fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { openSessionCache, type SessionCacheOptions } from "../src/SessionCache.js"
import { fileBytes, filesContaining, keyFor, tempDir } from "./fixtures.js"

const DIM = 16
const open = (rootDir: string, quota: Partial<Pick<SessionCacheOptions, "maxEntries" | "maxBytes">> = {}) =>
  openSessionCache({
    rootDir,
    tenant: "acme",
    session: "s1",
    dimension: DIM,
    dataKey: keyFor("s1"),
    ...quota
  })

/**
 * The database and its `-wal` are byte-identical to `before`. (`-shm` is SQLite's shared-memory
 * WAL index: readers update its read marks, so any read, including the quota check, touches it.)
 */
const unchanged = (path: string, before: ReadonlyArray<Buffer>) =>
  fileBytes(path)
    .slice(0, 2)
    .every((bytes, i) => bytes.equals(before[i]!))

const JWT =
  "eyJhbGciOiJFZERTQSIsInR5cCI6ImNvcmRvbi10YXNrK2p3dCJ9.eyJzdWIiOiJzcGlmZmU6Ly94L2EiLCJleHAiOjF9.c2ln"
const PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----"
const JWK =
  '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}'

describe("SessionCache credential refusal (MC-05)", () => {
  it.scoped("MC-05 refuses JWS, PEM and JWK-private shaped writes; nothing is written", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const cache = yield* open(root)
      yield* cache.putSummary("before", "benign")
      const before = yield* cache.stats()
      const attempts = [
        [cache.putSummary("a", `here is the bearer ${JWT} for later`), "jws", "text"],
        [cache.putSummary("b", "ok", { key: PEM }), "pem", "meta"],
        [cache.putSummary("c", "ok", { nested: [{ blob: JWK }] }), "jwk-private", "meta"],
        [cache.putSummary("d", "ok", JSON.parse(JWK) as Record<string, unknown>), "jwk-private", "meta"],
        [cache.putEmbedding("e", new Float32Array(DIM).fill(0.25), { token: JWT }), "jws", "meta"],
        [
          cache.putDocument({ key: "f", source: "kb", content: `tool result: ${JWK}` }),
          "jwk-private",
          "content"
        ],
        [
          cache.putDocument({ key: "g", source: `https://x.test/?t=${JWT}`, content: "page" }),
          "jws",
          "source"
        ],
        [cache.putSummary("before", PEM), "pem", "text"]
      ] as const
      for (const [attempt, reason, field] of attempts) {
        const error = yield* Effect.flip(attempt)
        expect(error._tag === "SecretInCacheError" && [error.code, error.reason, error.field]).toEqual([
          "E_SECRET_IN_CACHE",
          reason,
          field
        ])
        expect(error.message).not.toContain("eyJ")
      }
      expect(yield* cache.stats()).toEqual(before)
      expect(Option.map(yield* cache.getSummary("before"), (s) => s.text)).toEqual(Option.some("benign"))
      expect(yield* cache.search(new Float32Array(DIM).fill(0.25), 5)).toEqual([])
      expect(filesContaining(root, "nWGxne_9WmC6hEr0")).toEqual([])
    })
  )

  it.scoped("accepts text that only resembles a credential", () =>
    Effect.gen(function* () {
      const cache = yield* open(yield* tempDir)
      yield* cache.putSummary("a", "the header eyJhbGciOi alone, BEGIN without dashes, a d: value", {
        data: "eyJx.notjson.",
        d: 4
      })
      yield* cache.putDocument({ key: "b", source: "kb", content: '{"kty":"OKP","x":"public-only"}' })
      expect(yield* cache.stats()).toEqual({ summaries: 1, embeddings: 0, documents: 1 })
    })
  )
})

describe("SessionCache quotas", () => {
  it.scoped("refuses the entry past maxEntries (all namespaces together); the files are unchanged", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const cache = yield* open(root, { maxEntries: 3 })
      yield* cache.putSummary("a", "one")
      yield* cache.putEmbedding("b", new Float32Array(DIM).fill(1))
      yield* cache.putDocument({ key: "c", source: "kb", content: "three" })
      const before = fileBytes(cache.path)
      const stats = yield* cache.stats()
      const refused = [
        yield* Effect.flip(cache.putSummary("d", "four")),
        yield* Effect.flip(cache.putEmbedding("d", new Float32Array(DIM).fill(2))),
        yield* Effect.flip(cache.putDocument({ key: "d", source: "kb", content: "four" }))
      ]
      expect(refused.map((e) => e._tag === "QuotaExceeded" && [e.code, e.reason])).toEqual(
        Array(3).fill(["E_QUOTA_EXCEEDED", "entries"])
      )
      expect(unchanged(cache.path, before)).toBe(true)
      expect(yield* cache.stats()).toEqual(stats)
      expect((yield* cache.search(new Float32Array(DIM).fill(2), 5)).map((h) => h.key)).toEqual(["b"])
      // overwriting an existing key adds no entry
      yield* cache.putSummary("a", "one, revised")
      expect((yield* cache.usage()).entries).toBe(3)
    })
  )

  it.scoped("refuses writes past maxBytes, counting only the delta of an overwrite", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      // a summary record is its text plus a fixed overhead (fields, provenance, seal)
      const probe = yield* openSessionCache({
        rootDir: root,
        tenant: "acme",
        session: "probe",
        dimension: DIM,
        dataKey: keyFor("p")
      })
      yield* probe.putSummary("a", "x".repeat(200))
      const overhead = (yield* probe.usage()).bytes - 200
      expect(overhead).toBeGreaterThan(28)
      const maxBytes = 2 * overhead + 350
      const cache = yield* open(root, { maxBytes })
      yield* cache.putSummary("a", "x".repeat(200))
      const used = yield* cache.usage()
      expect(used.bytes).toBe(overhead + 200)
      expect([used.maxBytes, used.maxEntries]).toEqual([maxBytes, 10_000])
      const before = fileBytes(cache.path)
      const big = yield* Effect.flip(cache.putSummary("b", "y".repeat(200)))
      expect(big._tag === "QuotaExceeded" && [big.reason, big.scope]).toEqual(["bytes", "session"])
      const grow = yield* Effect.flip(cache.putSummary("a", "x".repeat(overhead + 400)))
      expect(grow._tag === "QuotaExceeded" && grow.reason).toBe("bytes")
      expect(unchanged(cache.path, before)).toBe(true)
      expect((yield* cache.usage()).bytes).toBe(used.bytes)
      // an overwrite that grows within the limit, then one that shrinks, are allowed
      yield* cache.putSummary("a", "x".repeat(300))
      yield* cache.putSummary("a", "x")
      const small = yield* cache.usage()
      expect(small.bytes).toBeLessThan(used.bytes)
      yield* cache.putSummary("b", "y".repeat(200))
      const final = yield* cache.usage()
      yield* cache.close()
      // usage is recomputed from the file on reopen, so the limit still holds
      const reopened = yield* open(root, { maxBytes })
      expect(yield* reopened.usage()).toEqual(final)
      const again = yield* Effect.flip(reopened.putSummary("c", "z".repeat(200)))
      expect(again._tag === "QuotaExceeded" && again.reason).toBe("bytes")
    })
  )

  it.scoped("rejects quota options that are not positive integers", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      for (const quota of [
        { maxEntries: 0 },
        { maxBytes: -1 },
        { maxEntries: 1.5 },
        { maxBytes: Number.NaN }
      ]) {
        const error = yield* Effect.flip(open(root, quota))
        expect(error._tag === "CacheError" && error.reason).toBe("invalid-argument")
      }
      expect(fs.readdirSync(root)).toEqual([])
    })
  )
})
