/**
 * Quotas: per session (entry count across all namespaces and sealed value bytes) and per tenant
 * (the same measures summed over the tenant's open sessions).
 *
 * @internal
 */
import type { TenantQuota } from "../CacheTypes.js"
import { QuotaExceeded } from "../Errors.js"

/** Default maximum number of entries of one session, summed over all namespaces. */
export const DEFAULT_MAX_ENTRIES = 10_000
/** Default maximum of sealed value bytes of one session (64 MiB). */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
/** Default maximum number of entries over all open sessions of one tenant. */
export const DEFAULT_TENANT_MAX_ENTRIES = 100_000
/** Default maximum of sealed value bytes over all open sessions of one tenant (512 MiB). */
export const DEFAULT_TENANT_MAX_BYTES = 512 * 1024 * 1024

export interface Usage {
  entries: number
  bytes: number
}

export interface Limits {
  readonly maxEntries: number
  readonly maxBytes: number
}

/**
 * `QuotaExceeded` when growing `usage` by `entries`/`bytes` passes a limit, else `undefined`. A
 * change that does not grow a measure is always allowed for that measure.
 */
export const exceeds = (
  usage: Usage,
  limits: Limits,
  entries: number,
  bytes: number,
  scope: "session" | "tenant"
): QuotaExceeded | undefined => {
  if (entries > 0 && usage.entries + entries > limits.maxEntries)
    return new QuotaExceeded({ reason: "entries", scope })
  if (bytes > 0 && usage.bytes + bytes > limits.maxBytes) return new QuotaExceeded({ reason: "bytes", scope })
  return undefined
}

/**
 * A tenant-wide budget shared by the tenant's open session caches. `maxEntries`/`maxBytes` must be
 * positive integers (checked by the caller).
 */
export const makeTenantQuota = (limits: Limits): TenantQuota => {
  const usage: Usage = { entries: 0, bytes: 0 }
  return {
    maxEntries: limits.maxEntries,
    maxBytes: limits.maxBytes,
    used: () => ({ entries: usage.entries, bytes: usage.bytes }),
    check: (entries, bytes) => exceeds(usage, limits, entries, bytes, "tenant"),
    charge: (entries, bytes) => {
      usage.entries = Math.max(0, usage.entries + entries)
      usage.bytes = Math.max(0, usage.bytes + bytes)
    }
  }
}
