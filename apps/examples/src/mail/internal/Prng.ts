/**
 * A tiny seeded pseudo-random number generator for reproducible fixtures.
 *
 * Not cryptographic: it only makes the demo data (shuffles, canary suffixes, planted
 * positions) identical for identical seeds.
 *
 * @internal
 */

/** A stream of floats in `[0, 1)`. */
export type Random = () => number

/**
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32.
 * `seed` is truncated to an unsigned 32-bit integer.
 */
export const mulberry32 = (seed: number): Random => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in `[0, bound)`; `bound` must be a positive integer. */
export const nextInt = (random: Random, bound: number): number => Math.floor(random() * bound)

/** A shuffled copy of `items` (Fisher–Yates). */
export const shuffled = <A>(random: Random, items: ReadonlyArray<A>): Array<A> => {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = nextInt(random, i + 1)
    const tmp = out[i] as A
    out[i] = out[j] as A
    out[j] = tmp
  }
  return out
}

const hex = (random: Random, digits: number): string => {
  let out = ""
  for (let i = 0; i < digits; i++) out += nextInt(random, 16).toString(16)
  return out
}

/** A UUID-shaped string (`8-4-4-4-12` lower-case hex digits) drawn from `random`. */
export const uuidLike = (random: Random): string =>
  `${hex(random, 8)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 12)}`
