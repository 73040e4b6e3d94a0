import { describe, expect, it } from "@effect/vitest"
import { cosine } from "../src/Embedder.js"
import type { IndexInfo } from "../src/internal/VectorIndex.js"
import { VectorIndex } from "../src/internal/VectorIndex.js"

const DIM = 12
const provenance = {
  source: null,
  taskId: null,
  retrievedAt: 0,
  contentHash: "sha256:x",
  trust: "untrusted" as const
}
const info = (key: string, expiresAt = Number.MAX_SAFE_INTEGER): IndexInfo => ({
  key,
  meta: {},
  expiresAt,
  provenance
})

/** Deterministic pseudo-random vectors (LCG), some of them repeated to force ties. */
const vectorOf = (seed: number) => {
  let x = (seed % 40) * 2654435761
  return Float32Array.from({ length: DIM }, () => {
    x = (x * 1103515245 + 12345) >>> 0
    return (x / 2 ** 32) * 2 - 1
  })
}

/** The reference answer: every live entry scored with `cosine`, sorted by score then key. */
const bruteForce = (
  entries: Map<string, [Float32Array, number]>,
  query: Float32Array,
  k: number,
  now: number
) =>
  [...entries]
    .filter(([, [, expiresAt]]) => expiresAt > now)
    .map(([key, [v]]) => ({ key, score: cosine(v, query) }))
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1))
    .slice(0, k)

describe("VectorIndex", () => {
  it("top-k equals a brute-force ranking through inserts, overwrites, deletes, ties and expiry", () => {
    const index = new VectorIndex(DIM, 4)
    const reference = new Map<string, [Float32Array, number]>()
    for (let i = 0; i < 300; i++) {
      const key = `k${(i * 7) % 120}`
      const expiresAt = i % 5 === 0 ? 50 : 1000
      const v = vectorOf(i)
      index.set(v, info(key, expiresAt))
      reference.set(key, [v, expiresAt])
      if (i % 9 === 0) {
        const gone = `k${(i * 3) % 120}`
        expect(index.delete(gone)).toBe(reference.delete(gone))
      }
    }
    expect(index.size).toBe(reference.size)
    for (const [seed, k, now] of [
      [1, 10, 0],
      [2, 10, 60],
      [3, 1, 60],
      [4, 500, 60],
      [5, 0, 0]
    ] as const) {
      const query = vectorOf(seed)
      const got = index.search(query, k, now)
      const want = bruteForce(reference, query, k, now)
      expect(got.map((h) => h.key)).toEqual(want.map((h) => h.key))
      for (const [i, h] of got.entries()) expect(h.score).toBeCloseTo(want[i]!.score, 5)
    }
  })

  it("a zero vector scores 0 and clear drops everything", () => {
    const index = new VectorIndex(DIM)
    index.set(new Float32Array(DIM), info("zero"))
    index.set(vectorOf(1), info("one"))
    const hits = index.search(vectorOf(1), 2, 0)
    expect(hits.map((h) => [h.key, Math.round(h.score * 1e5) / 1e5])).toEqual([
      ["one", 1],
      ["zero", 0]
    ])
    index.clear()
    expect(index.size).toBe(0)
    expect(index.search(vectorOf(1), 5, 0)).toEqual([])
  })
})
