/**
 * Storage of the verified-chain prefix cache: an LRU map from a link's token hash to its verified
 * claims, the key it verified under and its parent's hash.
 *
 * @internal
 */
import type { VerifiedLink } from "./link.js"

/** A link whose signature and lineage (as part of the prefix ending at it) were verified. */
export interface CacheEntry extends VerifiedLink {
  /** Hash of the link's parent, `undefined` for a root. */
  readonly prevHash: string | undefined
}

/**
 * Counters of a cache: `hits` counts links served from the cache, `misses` counts lookups that
 * found nothing usable (at most one per verification: lookups stop at the first miss), `evictions`
 * counts entries dropped to respect the bound.
 */
export interface CacheStats {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
}

export class ChainCacheImpl {
  private readonly entries = new Map<string, CacheEntry>()
  private hits = 0
  private misses = 0
  private evictions = 0

  constructor(readonly maxEntries: number) {}

  /**
   * The entry of the link hashed `hash` when its parent is the link hashed `prevHash` (the
   * cached prefix matches the presented one) and `usable` accepts it; refreshes its recency.
   */
  lookup(
    hash: string,
    prevHash: string | undefined,
    usable: (entry: CacheEntry) => boolean
  ): CacheEntry | undefined {
    const entry = this.entries.get(hash)
    if (entry === undefined || entry.prevHash !== prevHash || !usable(entry)) {
      this.misses++
      return undefined
    }
    this.hits++
    this.entries.delete(hash)
    this.entries.set(hash, entry)
    return entry
  }

  insert(hash: string, entry: CacheEntry): void {
    this.entries.delete(hash)
    this.entries.set(hash, entry)
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) break
      this.entries.delete(oldest.value)
      this.evictions++
    }
  }

  readonly size = (): number => this.entries.size
  readonly clear = (): void => this.entries.clear()
  readonly stats = (): CacheStats => ({ hits: this.hits, misses: this.misses, evictions: this.evictions })
}
