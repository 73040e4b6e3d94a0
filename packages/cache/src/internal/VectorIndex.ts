/**
 * In-memory vector index of one session cache, and the on-disk vector encoding.
 *
 * Vectors are stored normalised to unit length in ONE contiguous `Float32Array` (slot `i` at
 * `[i * dimension, (i + 1) * dimension)`), so a search is a single linear scan of dot products
 * with a bounded top-k selection (no per-entry objects, no sort of all scores).
 *
 * @internal
 */
import type { SearchHit } from "../CacheTypes.js"

/** What the index keeps about an entry besides its vector. */
export type IndexInfo = Omit<SearchHit, "score">

/** Encodes `vector` as consecutive IEEE-754 float32 values, little-endian (4 bytes each). */
export const encodeVector = (vector: Float32Array): Buffer => {
  const bytes = Buffer.allocUnsafe(vector.length * 4)
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4)
  return bytes
}

/** Decodes a little-endian float32 blob; `undefined` when its size is not `dimension * 4` bytes. */
export const decodeVector = (bytes: Uint8Array, dimension: number): Float32Array | undefined => {
  if (bytes.byteLength !== dimension * 4) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const vector = new Float32Array(dimension)
  for (let i = 0; i < dimension; i++) vector[i] = view.getFloat32(i * 4, true)
  return vector
}

/** `vector` scaled to unit L2 norm into `out` (the zero vector stays zero). */
const normaliseInto = (vector: Float32Array, out: Float32Array, offset: number): void => {
  let sum = 0
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0
  for (let i = 0; i < vector.length; i++) out[offset + i] = vector[i]! * scale
}

/** Exact (brute-force) cosine-similarity index keyed by entry key. */
export class VectorIndex {
  readonly #dimension: number
  #vectors: Float32Array
  #expires: Float64Array
  #infos: Array<IndexInfo> = []
  readonly #slots = new Map<string, number>()

  constructor(dimension: number, capacity = 256) {
    this.#dimension = dimension
    this.#vectors = new Float32Array(capacity * dimension)
    this.#expires = new Float64Array(capacity)
  }

  get size(): number {
    return this.#infos.length
  }

  /** Inserts or replaces `info.key`; the vector is copied, normalised. */
  set(vector: Float32Array, info: IndexInfo): void {
    let slot = this.#slots.get(info.key)
    if (slot === undefined) {
      slot = this.#infos.length
      if (slot === this.#expires.length) this.#grow()
      this.#slots.set(info.key, slot)
      this.#infos.push(info)
    } else this.#infos[slot] = info
    normaliseInto(vector, this.#vectors, slot * this.#dimension)
    this.#expires[slot] = info.expiresAt
  }

  /** Removes `key` (the last slot moves into its place); `false` when absent. */
  delete(key: string): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    const last = this.#infos.length - 1
    const moved = this.#infos[last]!
    this.#slots.delete(key)
    if (slot !== last) {
      const d = this.#dimension
      this.#vectors.copyWithin(slot * d, last * d, (last + 1) * d)
      this.#expires[slot] = this.#expires[last]!
      this.#infos[slot] = moved
      this.#slots.set(moved.key, slot)
    }
    this.#infos.pop()
    this.#vectors.fill(0, last * this.#dimension, (last + 1) * this.#dimension)
    return true
  }

  /** Drops every entry and zeroes the vector memory. */
  clear(): void {
    this.#vectors.fill(0)
    this.#infos = []
    this.#slots.clear()
  }

  /**
   * The `k` entries most similar to `query` whose `expiresAt` is after `now`, highest score first,
   * ties by key. Scores are cosine similarities (`0` when `query` or an entry is the zero vector).
   */
  search(query: Float32Array, k: number, now: number): ReadonlyArray<SearchHit> {
    const n = this.#infos.length
    const size = Math.min(k, n)
    if (size <= 0) return []
    const d = this.#dimension
    const q = new Float32Array(d)
    normaliseInto(query, q, 0)
    const m = this.#vectors
    const expires = this.#expires
    const infos = this.#infos
    const topScore = new Float64Array(size)
    const topSlot = new Int32Array(size)
    let count = 0
    let worst = 0
    // `a` ranks below `b`: lower score, or the same score and a later key
    const below = (sa: number, a: number, sb: number, b: number) =>
      sa < sb || (sa === sb && infos[a]!.key > infos[b]!.key)
    for (let i = 0; i < n; i++) {
      let dot = 0
      const off = i * d
      for (let j = 0; j < d; j++) dot += m[off + j]! * q[j]!
      if (count === size && !below(topScore[worst]!, topSlot[worst]!, dot, i)) continue
      if (expires[i]! <= now) continue
      if (count < size) {
        topScore[count] = dot
        topSlot[count++] = i
        if (count < size) continue
      } else {
        topScore[worst] = dot
        topSlot[worst] = i
      }
      worst = 0
      for (let t = 1; t < size; t++)
        if (below(topScore[t]!, topSlot[t]!, topScore[worst]!, topSlot[worst]!)) worst = t
    }
    const order = Array.from({ length: count }, (_, t) => t)
    order.sort((a, b) => (below(topScore[a]!, topSlot[a]!, topScore[b]!, topSlot[b]!) ? 1 : -1))
    return order.map((t) => ({ ...infos[topSlot[t]!]!, score: topScore[t]! }))
  }

  #grow(): void {
    const capacity = this.#expires.length * 2
    const vectors = new Float32Array(capacity * this.#dimension)
    vectors.set(this.#vectors)
    this.#vectors.fill(0)
    this.#vectors = vectors
    const expires = new Float64Array(capacity)
    expires.set(this.#expires)
    this.#expires = expires
  }
}
