/**
 * Taint tracking in a tenant worker (threat MC-03): untrusted cache content may inform text, but may not
 * alone justify the arguments of a high-risk tool call.
 *
 * One {@link TaintTracker} per task (root task id `txn`), shared by every agent run of the task in this
 * worker (a handoff's child run sees what its parent read), dropped when the task's last run ends. The
 * session-cache view given to tool handlers ({@link trackCache}) records every UNTRUSTED entry the run
 * reads (`getSummary`, `getDocument`, `search` hits) or writes (`putSummary`, `putDocument`) with its
 * `contentHash`: a summary's text and metadata strings, a document's content (not its source), a search
 * hit's metadata strings. Embedding writes carry no text and are not recorded.
 *
 * The rule ({@link TaintTracker.match}): every string of the call's arguments (values and keys) and every
 * tracked text are normalised (Unicode NFKC, lower case, whitespace runs as one space). The arguments
 * are tainted by an entry when
 * - they share a fragment of at least {@link MinFragmentChars} (24) characters with the entry's text, or
 * - they contain an email address or a URL that occurs in the entry's text (an email address must stand
 *   alone: `x@evil.example` does not match `ax@evil.example` nor `x@evil.example.org`; a URL matches as
 *   a prefix, so added paths or query strings still match).
 * Shorter overlaps (words, names, numbers) are not taint: that is the "inform text" the row allows.
 * A task that tracks more than {@link MaxTrackedChars} characters fails closed: entries past the cap
 * taint every later call of the task.
 *
 * @internal
 */
import type { CacheMeta, SessionCache, Trust } from "@cordon/cache/CacheTypes"
import { PlatformPolicyId, TaintedSourceRule } from "@cordon/policy/PlatformPolicies"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { hash } from "node:crypto"

/** Shortest shared fragment, in characters (after normalisation), that taints a call. */
export const MinFragmentChars = 24

/** Characters of untrusted text a task may track; past it, later entries taint every call. */
export const MaxTrackedChars = 8 * 1024 * 1024

/** Most content hashes reported for one call (sorted, the first ones kept). */
export const MaxTaintHashes = 32

/** `sha256:<hex>` of `text` as UTF-8: the cache's `Provenance.contentHash` of a summary or document. */
export const contentHashOf = (text: string): string => `sha256:${hash("sha256", text, "hex")}`

const normalize = (s: string): string => s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ")

const EMAIL = /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+/g
const URL_ = /(?:https?|ftp):\/\/[^\s"'<>()[\]{}]+/g
const LOCAL_CHAR = /[a-z0-9._%+-]/
const DOMAIN_CHAR = /[a-z0-9-]/
const SCHEME_CHAR = /[a-z0-9+.-]/

interface Marker {
  readonly text: string
  readonly kind: "email" | "url"
}

/** The email addresses and URLs in normalised `text` (URLs without trailing punctuation). */
const markersOf = (text: string): Array<Marker> => [
  ...[...text.matchAll(EMAIL)].map((m) => ({ text: m[0].replace(/\.+$/, ""), kind: "email" as const })),
  ...[...text.matchAll(URL_)].map((m) => ({ text: m[0].replace(/[.,;:!?]+$/, ""), kind: "url" as const }))
]

/** Whether `marker` occurs in `hay` on its own (see the module rule). */
const occurs = (hay: string, marker: Marker): boolean => {
  for (let at = hay.indexOf(marker.text); at >= 0; at = hay.indexOf(marker.text, at + 1)) {
    const before = hay[at - 1] ?? " "
    const end = at + marker.text.length
    const after = hay[end] ?? " "
    if (marker.kind === "url") {
      if (!SCHEME_CHAR.test(before)) return true
      continue
    }
    const extendsDomain = DOMAIN_CHAR.test(after) || (after === "." && DOMAIN_CHAR.test(hay[end + 1] ?? " "))
    if (!LOCAL_CHAR.test(before) && !extendsDomain) return true
  }
  return false
}

/**
 * Whether `arg` and `text` share a substring of `MinFragmentChars` characters. Any such substring holds
 * an aligned chunk of half that length (starting at a multiple of it in `arg`), so only the windows
 * around a chunk found in `text` are checked.
 */
const sharesFragment = (arg: string, text: string): boolean => {
  const n = MinFragmentChars
  const half = n / 2
  if (arg.length < n || text.length < n) return false
  for (let c = 0; c + half <= arg.length; c += half) {
    if (!text.includes(arg.slice(c, c + half))) continue
    for (let s = Math.max(0, c - half + 1); s <= Math.min(c, arg.length - n); s++) {
      if (text.includes(arg.slice(s, s + n))) return true
    }
  }
  return false
}

/** Every string in a JSON value: string members and object keys, depth first. */
const stringsOf = (value: unknown, out: Array<string> = []): Array<string> => {
  if (typeof value === "string") out.push(value)
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out)
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      stringsOf(v, out)
    }
  }
  return out
}

interface Entry {
  readonly texts: Array<string>
  readonly markers: Array<Marker>
}

/** What one task has read or written of untrusted cache content, and the matching rule over it. */
export interface TaintTracker {
  /** Records untrusted `texts` (raw; normalised here) of the entry whose hash is `contentHash`. */
  readonly record: (contentHash: string, texts: ReadonlyArray<string>) => void
  /**
   * The content hashes (sorted, at most {@link MaxTaintHashes}) of tracked entries that taint `args`
   * (a JSON value: the call's arguments), by the module rule; empty when the call is clean.
   */
  readonly match: (args: unknown) => ReadonlyArray<string>
}

/** An empty tracker (one per task; see {@link acquireTaskTaint}). */
export const makeTaintTracker = (maxTrackedChars = MaxTrackedChars): TaintTracker => {
  const entries = new Map<string, Entry>()
  const overflow = new Set<string>()
  let tracked = 0
  return {
    record: (contentHash, texts) => {
      if (overflow.has(contentHash)) return
      const entry = entries.get(contentHash) ?? { texts: [], markers: [] }
      for (const raw of texts) {
        const text = normalize(raw)
        if (text.trim() === "" || entry.texts.includes(text)) continue
        if (tracked + text.length > maxTrackedChars) {
          // Fail closed: content past the cap is not kept, so it taints every later call of the task.
          entries.delete(contentHash)
          overflow.add(contentHash)
          return
        }
        tracked += text.length
        entry.texts.push(text)
        entry.markers.push(...markersOf(text))
      }
      if (entry.texts.length > 0) entries.set(contentHash, entry)
    },
    match: (args) => {
      const strings = stringsOf(args).map(normalize)
      const hit = new Set(overflow)
      for (const [contentHash, entry] of entries) {
        const tainted = strings.some(
          (s) =>
            entry.markers.some((m) => occurs(s, m)) || entry.texts.some((text) => sharesFragment(s, text))
        )
        if (tainted) hit.add(contentHash)
      }
      return [...hit].sort().slice(0, MaxTaintHashes)
    }
  }
}

/**
 * `tracker.match` over the arguments as sent to the broker (`argsJson`: their canonical JSON text), so
 * the worker judges exactly what the broker screens and binds. Text that is not JSON is matched whole.
 */
export const matchesOf = (tracker: TaintTracker, argsJson: string): ReadonlyArray<string> => {
  let args: unknown
  try {
    args = JSON.parse(argsJson)
  } catch {
    args = argsJson
  }
  return tracker.match(args)
}

/** Trackers of the tasks running in this worker, with the number of their live runs. */
const tasks = new Map<string, { readonly tracker: TaintTracker; runs: number }>()

/**
 * The tracker of task `txn` for one more run; `release` (idempotent) ends that run's use, and the
 * tracker is dropped when the task's last run released it.
 */
export const acquireTaskTaint = (
  txn: string
): { readonly tracker: TaintTracker; readonly release: () => void } => {
  const task = tasks.get(txn) ?? { tracker: makeTaintTracker(), runs: 0 }
  task.runs += 1
  tasks.set(txn, task)
  let released = false
  return {
    tracker: task.tracker,
    release: () => {
      if (released) return
      released = true
      task.runs -= 1
      if (task.runs <= 0 && tasks.get(txn) === task) tasks.delete(txn)
    }
  }
}

/** Number of tasks with a live tracker in this worker (for tests). */
export const trackedTasks = (): number => tasks.size

const untrusted = (trust: Trust | undefined) => (trust ?? "untrusted") === "untrusted"

const metaStrings = (meta: CacheMeta | undefined): Array<string> =>
  meta === undefined ? [] : stringsOf(Object.values(meta))

/**
 * `cache` with every read and write of untrusted content recorded in `tracker` (see the module rule);
 * results, failures and every other operation are the cache's own. `forTask` views are tracked too.
 */
export const trackCache = (cache: SessionCache, tracker: TaintTracker): SessionCache => ({
  ...cache,
  getSummary: (key) =>
    Effect.tap(cache.getSummary(key), (found) => {
      if (Option.isSome(found) && untrusted(found.value.provenance.trust)) {
        const s = found.value
        tracker.record(s.provenance.contentHash, [s.text, ...metaStrings(s.meta)])
      }
    }),
  getDocument: (key) =>
    Effect.tap(cache.getDocument(key), (found) => {
      if (Option.isSome(found) && untrusted(found.value.trust)) {
        tracker.record(found.value.contentHash, [found.value.content])
      }
    }),
  search: (vector, k) =>
    Effect.tap(cache.search(vector, k), (hits) => {
      for (const hit of hits) {
        if (untrusted(hit.provenance.trust)) tracker.record(hit.provenance.contentHash, metaStrings(hit.meta))
      }
    }),
  putSummary: (key, text, meta, options) =>
    Effect.tap(cache.putSummary(key, text, meta, options), () => {
      if (untrusted(options?.trust)) tracker.record(contentHashOf(text), [text, ...metaStrings(meta)])
    }),
  putDocument: (document) =>
    Effect.tap(cache.putDocument(document), () => {
      if (untrusted(document.trust)) tracker.record(contentHashOf(document.content), [document.content])
    }),
  forTask: (taskId) => trackCache(cache.forTask(taskId), tracker)
})

/** Broker side: whether a decision was determined by `platform.tainted-high-risk`. */
export const deniedForTaint = (decision: { readonly determiningPolicies: ReadonlyArray<string> }): boolean =>
  decision.determiningPolicies.includes(PlatformPolicyId.taintedHighRisk)

/**
 * Broker side: the audit detail of a tool decision on tainted arguments: `tainted_source: entries <hashes>`
 * when `platform.tainted-high-risk` determined it, else `taint: entries <hashes>` (an allowed low-risk
 * call), after `detail`. `detail` unchanged when the call carried no taint.
 */
export const taintDetail = (
  hashes: ReadonlyArray<string> | undefined,
  decision: { readonly determiningPolicies: ReadonlyArray<string> },
  detail: string | undefined
): string | undefined => {
  if (hashes === undefined) return detail
  const note = `${deniedForTaint(decision) ? TaintedSourceRule : "taint"}: entries ${hashes.join(",")}`
  return detail === undefined ? note : `${detail}; ${note}`
}

/** Broker side: the reason an agent is given for a deny by `platform.tainted-high-risk`. */
export const taintRefusal = `${TaintedSourceRule}: arguments carry untrusted retrieved content`
