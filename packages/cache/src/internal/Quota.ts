/**
 * Per-session quotas: entry count across all namespaces and sealed value bytes.
 *
 * @internal
 */
import { QuotaExceeded } from "../Errors.js"

/** Default maximum number of entries of one session, summed over all namespaces. */
export const DEFAULT_MAX_ENTRIES = 10_000
/** Default maximum of sealed value bytes of one session (64 MiB). */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

export interface Usage {
  entries: number
  bytes: number
}

export interface Limits {
  readonly maxEntries: number
  readonly maxBytes: number
}

/**
 * The delta of writing `newBytes` under a key whose current value has `existingBytes` (undefined
 * when the key is new), or `QuotaExceeded` when the result would pass a limit. A write that does
 * not grow a measure is always allowed for that measure.
 */
export const admit = (
  usage: Usage,
  limits: Limits,
  existingBytes: number | undefined,
  newBytes: number
): QuotaExceeded | Usage => {
  const entries = existingBytes === undefined ? 1 : 0
  const bytes = newBytes - (existingBytes ?? 0)
  if (entries > 0 && usage.entries + entries > limits.maxEntries)
    return new QuotaExceeded({ reason: "entries" })
  if (bytes > 0 && usage.bytes + bytes > limits.maxBytes) return new QuotaExceeded({ reason: "bytes" })
  return { entries, bytes }
}
