/**
 * Text embedders. The default, {@link featureHashEmbedder}, is deterministic, offline and cheap:
 * the "hashing trick" (Weinberger et al., 2009, "Feature Hashing for Large Scale Multitask
 * Learning") over lower-cased word unigrams and bigrams.
 *
 * @module
 */

/** Maps text to a fixed-length vector. `embed(text).length === dimension`. */
export interface Embedder {
  /** Number of components of every vector this embedder returns. */
  readonly dimension: number
  /** Embeds `text`. Pure: the same text always gives the same vector. */
  readonly embed: (text: string) => Float32Array
}

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193
const encoder = new TextEncoder()
const WORD = /[\p{L}\p{N}]+/gu

/**
 * FNV-1a, 32-bit, over the UTF-8 bytes of `input` (see draft-eastlake-fnv, "The FNV
 * Non-Cryptographic Hash Algorithm"). Returns an unsigned 32-bit integer.
 */
export const fnv1a32 = (input: string): number => {
  let hash = FNV_OFFSET_BASIS
  for (const byte of encoder.encode(input)) {
    hash ^= byte
    hash = Math.imul(hash, FNV_PRIME)
  }
  return hash >>> 0
}

/** Lower-cased words of `text`: maximal runs of Unicode letters and digits. */
export const words = (text: string): ReadonlyArray<string> => text.toLowerCase().match(WORD) ?? []

/**
 * Deterministic feature-hashing embedder.
 *
 * Features are the lower-cased word unigrams and adjacent-word bigrams (`"w1 w2"`) of the text.
 * Each feature's FNV-1a 32-bit hash `h` picks component `h mod dimension` and a sign from bit 31
 * of `h`; the vector is then L2-normalised. Text without words embeds to the zero vector.
 * No network, no state.
 *
 * @param dimension vector length, an integer in `[1, 65536]`; default 256.
 * @throws RangeError when `dimension` is out of range (a configuration defect).
 */
export const featureHashEmbedder = (dimension = 256): Embedder => {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
    throw new RangeError("featureHashEmbedder: dimension must be an integer in [1, 65536]")
  }
  const add = (vector: Float32Array, feature: string): void => {
    const h = fnv1a32(feature)
    const index = h % dimension
    vector[index] = (vector[index] ?? 0) + (h & 0x80000000 ? -1 : 1)
  }
  return {
    dimension,
    embed: (text) => {
      const vector = new Float32Array(dimension)
      const tokens = words(text)
      for (let i = 0; i < tokens.length; i++) {
        const token = tokens[i]!
        add(vector, token)
        if (i > 0) add(vector, `${tokens[i - 1]!} ${token}`)
      }
      return normalize(vector)
    }
  }
}

/** Euclidean (L2) norm of `v`. */
export const norm = (v: Float32Array): number => {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!
  return Math.sqrt(sum)
}

/** Scales `v` in place to unit L2 norm (a zero vector is left as is) and returns it. */
export const normalize = (v: Float32Array): Float32Array => {
  const n = norm(v)
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n
  return v
}

/**
 * Cosine similarity of `a` and `b`, in `[-1, 1]`; `0` when either is the zero vector.
 *
 * @throws RangeError when the lengths differ (a programming defect).
 */
export const cosine = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) throw new RangeError("cosine: vectors differ in length")
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    dot += x * y
    na += x * x
    nb += y * y
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}
