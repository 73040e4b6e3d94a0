import { describe, expect, it } from "@effect/vitest"
import { cosine, featureHashEmbedder, fnv1a32, norm } from "../src/Embedder.js"

describe("fnv1a32", () => {
  it("matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5)
    expect(fnv1a32("a")).toBe(0xe40c292c)
    expect(fnv1a32("foobar")).toBe(0xbf9cf968)
  })
})

describe("featureHashEmbedder", () => {
  const embedder = featureHashEmbedder()

  it("defaults to 256 components and is deterministic", () => {
    expect(embedder.dimension).toBe(256)
    const a = embedder.embed("The invoice is overdue")
    expect(a.length).toBe(256)
    expect(Array.from(featureHashEmbedder(256).embed("The invoice is overdue"))).toEqual(Array.from(a))
  })

  it("returns unit vectors, and the zero vector for text without words", () => {
    expect(norm(embedder.embed("refund my order please"))).toBeCloseTo(1, 5)
    const empty = embedder.embed("  ... !!")
    expect(norm(empty)).toBe(0)
    expect(cosine(empty, embedder.embed("refund"))).toBe(0)
  })

  it("ignores case and punctuation", () => {
    expect(cosine(embedder.embed("Refund, my ORDER!"), embedder.embed("refund my order"))).toBeCloseTo(1, 5)
  })

  it("scores related texts above unrelated ones", () => {
    const query = embedder.embed("where is my refund for the broken order")
    const related = embedder.embed("refund for a broken order was issued")
    const unrelated = embedder.embed("the weather in lisbon is sunny today")
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.2)
  })

  it("uses bigrams: word order changes the vector", () => {
    const score = cosine(embedder.embed("dog bites man"), embedder.embed("man bites dog"))
    expect(score).toBeLessThan(0.99)
    expect(score).toBeGreaterThan(0.3)
  })

  it("honours the dimension and rejects invalid ones", () => {
    expect(featureHashEmbedder(16).embed("a b c").length).toBe(16)
    expect(() => featureHashEmbedder(0)).toThrow(RangeError)
    expect(() => featureHashEmbedder(1.5)).toThrow(RangeError)
  })
})

describe("cosine", () => {
  it("computes the cosine similarity", () => {
    expect(cosine(Float32Array.of(1, 0), Float32Array.of(0, 1))).toBe(0)
    expect(cosine(Float32Array.of(1, 1), Float32Array.of(2, 2))).toBeCloseTo(1, 6)
    expect(cosine(Float32Array.of(1, 0), Float32Array.of(-3, 0))).toBeCloseTo(-1, 6)
  })

  it("rejects vectors of different lengths", () => {
    expect(() => cosine(Float32Array.of(1), Float32Array.of(1, 2))).toThrow(RangeError)
  })
})
