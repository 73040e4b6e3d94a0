/**
 * A bounded cache of verified delegation-chain prefixes for {@link verifyChain} (via
 * `VerifyOptions.cache`).
 *
 * Entries are keyed by each link's full compact form (exact characters, so a token whose bytes
 * differ never hits) and hold the link's token hash, decoded claims, the key (`kid`, `x`) its
 * signature verified under and its parent's hash; a fully cached chain costs no hashing, decoding
 * or signature check. A link is served from the cache only when every
 * earlier link of the presented chain was too and its cached parent hash is the presented
 * parent's: the whole prefix is the one that was verified. An entry is written only once the
 * prefix ending at it passed the signature and lineage rules. On a hit the verifier still requires the
 * key to be in the caller's JWKS with the same `x` (a retired key stops hits at once), the tenant
 * and issuer to match, and re-checks the lineage rules, expiry, not-before, audience, session and
 * transaction binding and the revocation of every link on every call. Eviction is least recently
 * used.
 *
 * @module
 */
import { IdentityConfigError } from "./IdentityConfigError.js"
import { type CacheStats, ChainCacheImpl } from "./internal/chainCache.js"

export type { CacheStats } from "./internal/chainCache.js"

/** A verified-chain prefix cache (opaque: only the verifier reads or writes entries). */
export interface VerifiedChainCache {
  /** The bound on entries (one entry per link). */
  readonly maxEntries: number
  /** Number of entries held. */
  readonly size: () => number
  /** Drops every entry. */
  readonly clear: () => void
  /** Hit, miss and eviction counts since creation. */
  readonly stats: () => CacheStats
}

/** Default bound of a {@link VerifiedChainCache}. */
export const DEFAULT_CHAIN_CACHE_ENTRIES = 10_000

/**
 * Makes an empty cache holding at most `maxEntries` links (default 10,000).
 *
 * @throws IdentityConfigError (`bound`) when `maxEntries` is not a positive integer.
 */
export const makeVerifiedChainCache = (
  options: { readonly maxEntries?: number } = {}
): VerifiedChainCache => {
  const maxEntries = options.maxEntries ?? DEFAULT_CHAIN_CACHE_ENTRIES
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new IdentityConfigError({ reason: "bound" })
  return new ChainCacheImpl(maxEntries)
}
