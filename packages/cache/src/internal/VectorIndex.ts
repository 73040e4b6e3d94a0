/**
 * In-memory vector index of one session cache, and the on-disk vector encoding.
 *
 * @internal
 */
import { norm } from "../Embedder.js"

/** A search result: the entry's key, its cosine similarity to the query, and its metadata. */
export interface SearchHit {
  readonly key: string
  readonly score: number
  readonly meta: Readonly<Record<string, unknown>>
}

interface Entry {
  readonly key: string
  readonly vector: Float32Array
  readonly norm: number
  readonly meta: Readonly<Record<string, unknown>>
}

/** Encodes `vector` as consecutive IEEE-754 float32 values, little-endian (4 bytes each). */
export const encodeVector = (vector: Float32Array): Buffer => {
  const bytes = Buffer.alloc(vector.length * 4)
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

/** Exact (brute-force) cosine-similarity index keyed by entry key. */
export class VectorIndex {
  readonly #entries = new Map<string, Entry>()

  get size(): number {
    return this.#entries.size
  }

  /** Inserts or replaces `key`; the vector is copied. */
  set(key: string, vector: Float32Array, meta: Readonly<Record<string, unknown>>): void {
    const copy = Float32Array.from(vector)
    this.#entries.set(key, { key, vector: copy, norm: norm(copy), meta })
  }

  clear(): void {
    this.#entries.clear()
  }

  /** The `k` entries most similar to `query`, highest score first; ties by key. */
  search(query: Float32Array, k: number): ReadonlyArray<SearchHit> {
    if (k <= 0) return []
    const queryNorm = norm(query)
    const hits: Array<SearchHit> = []
    for (const entry of this.#entries.values()) {
      let dot = 0
      for (let i = 0; i < query.length; i++) dot += query[i]! * entry.vector[i]!
      const denominator = queryNorm * entry.norm
      hits.push({ key: entry.key, score: denominator === 0 ? 0 : dot / denominator, meta: entry.meta })
    }
    hits.sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return hits.slice(0, k)
  }
}
