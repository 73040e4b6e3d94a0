/**
 * A bounded, short-lived cache of policy decisions. An entry is keyed by the policy version and a
 * canonical serialisation of the whole decoded request, so a decision is only ever served for the
 * exact same question under the exact same policy set. Entries live at most `ttlNanos` on the
 * monotonic clock (`Clock.currentTimeNanos`); when full, the oldest entry is evicted.
 *
 * @internal
 */
import type { PolicyDecision } from "../PolicyRequest.js"

/** Default entry lifetime: one second, in nanoseconds. */
export const DefaultTtlNanos = 1_000_000_000n

/** Default bound on the number of entries. */
export const DefaultMaxEntries = 10_000

interface Entry {
  readonly storedAt: bigint
  readonly decision: PolicyDecision
}

/** A decision cache; `now` is a monotonic time in nanoseconds. */
export interface DecisionCache {
  readonly get: (key: string, now: bigint) => PolicyDecision | undefined
  readonly set: (key: string, decision: PolicyDecision, now: bigint) => void
  readonly size: () => number
}

/**
 * Canonical JSON of a decoded value: object keys sorted, `undefined` members dropped, arrays in
 * order. Total over the JSON-like values a decoded `PolicyRequest` holds (strings, numbers,
 * booleans, null, arrays, plain objects).
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const record = value as Record<string, unknown>
  const members: Array<string> = []
  for (const key of Object.keys(record).sort()) {
    const member = record[key]
    if (member === undefined) continue
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`)
  }
  return `{${members.join(",")}}`
}

/**
 * The cache key of a request (as given, or decoded) under `policyVersion`. Throws on values
 * `JSON.stringify` refuses (a `BigInt`) and on cyclic input (stack overflow).
 */
export const cacheKey = (policyVersion: string, request: unknown): string =>
  `${policyVersion}\u0000${canonicalJson(request)}`

/** A frozen copy of `decision`, so a cached decision cannot be changed by a caller. */
export const freezeDecision = (decision: PolicyDecision): PolicyDecision =>
  Object.freeze({
    ...decision,
    determiningPolicies: Object.freeze([...decision.determiningPolicies]),
    errors: Object.freeze([...decision.errors])
  })

/**
 * A cache of at most `maxEntries` decisions, each served for at most `ttlNanos` after it was
 * stored. An entry whose stored time lies in the future of `now` is never served.
 */
export const makeDecisionCache = (
  options: { readonly ttlNanos?: bigint; readonly maxEntries?: number } = {}
): DecisionCache => {
  const ttl = options.ttlNanos ?? DefaultTtlNanos
  const maxEntries = Math.max(1, options.maxEntries ?? DefaultMaxEntries)
  const entries = new Map<string, Entry>()
  return {
    get: (key, now) => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (now < entry.storedAt || now - entry.storedAt >= ttl) {
        entries.delete(key)
        return undefined
      }
      return entry.decision
    },
    set: (key, decision, now) => {
      entries.delete(key)
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done === true) break
        entries.delete(oldest.value)
      }
      entries.set(key, { storedAt: now, decision })
    },
    size: () => entries.size
  }
}
