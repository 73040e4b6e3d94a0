/**
 * Storage of the verified-chain prefix cache: an LRU map from a link's compact token (its exact
 * characters) to its hash, verified claims, the key it verified under and its parent's hash.
 *
 * @internal
 */
import type { Jwks } from "../KeyRing.js"
import { stillAcceptable, type VerifiedLink } from "./link.js"

/** A link whose signature and lineage (as part of the prefix ending at it) were verified. */
export interface CacheEntry extends VerifiedLink {
  /** `tokenHash` of the link. */
  readonly hash: string
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
   * The entry of the link `token` when its parent is the link hashed `prevHash` (the cached
   * prefix matches the presented one) and it is still acceptable under `opts` (tenant, issuer,
   * key still published with the same `x`); refreshes its recency.
   */
  lookup(
    token: string,
    prevHash: string | undefined,
    opts: { readonly tenant: string; readonly issuer: string; readonly jwks: Jwks }
  ): CacheEntry | undefined {
    const entry = this.entries.get(token)
    if (entry === undefined || entry.prevHash !== prevHash || !stillAcceptable(entry, opts)) {
      this.misses++
      return undefined
    }
    this.hits++
    this.entries.delete(token)
    this.entries.set(token, entry)
    return entry
  }

  insert(token: string, entry: CacheEntry): void {
    this.entries.delete(token)
    this.entries.set(token, entry)
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
