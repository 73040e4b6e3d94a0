/**
 * The argument constraints a tool declares (`ArgumentConstraints` in `@cordon/sdk/Tool`), checked on the
 * encoded arguments: path jail under the session directory (lexical rules, then the real path with
 * symlinks resolved), URL host allow-list with internal addresses always refused, value allow-lists and
 * the size cap. Pure but for the file-system reads of the path jail. Threat TM-01.
 */
import type { ArgumentConstraints } from "@cordon/sdk/Tool"
import * as fs from "node:fs"
import * as path from "node:path"

/** Every value found at a dotted `field` of `value`: arrays on the way and at the end are walked. */
export const valuesAt = (value: unknown, field: string): ReadonlyArray<unknown> => {
  let current: ReadonlyArray<unknown> = [value]
  for (const key of field.split(".")) {
    const next: Array<unknown> = []
    for (const v of current) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (typeof item === "object" && item !== null && Object.hasOwn(item, key)) {
          next.push((item as Record<string, unknown>)[key])
        }
      }
    }
    current = next
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]))
}

const isWithin = (root: string, target: string) =>
  target === root || target.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`)

const realpath = (p: string): string | undefined => {
  try {
    return fs.realpathSync(p)
  } catch {
    return undefined
  }
}

/**
 * Why `candidate` is not a path inside `root` (absolute), or `undefined` when it is. Lexical rules: a
 * non-empty string of at most 4,096 characters, relative (no leading `/`, no drive letter), no backslash,
 * no NUL, no `..` segment. Then the real path: the deepest existing prefix of the resolved path, with
 * every symlink resolved, must still be inside the real `root` (a dangling symlink is refused).
 */
export const pathJailError = (root: string, candidate: unknown): string | undefined => {
  if (typeof candidate !== "string" || candidate.length === 0 || candidate.length > 4096) return "not a path"
  if (candidate.includes("\0") || candidate.includes("\\")) return "forbidden character in path"
  if (candidate.startsWith("/") || /^[A-Za-z]:/.test(candidate)) return "absolute path"
  if (candidate.split("/").some((segment) => segment === "..")) return "path leaves the session directory"
  const target = path.resolve(root, candidate)
  if (!isWithin(root, target)) return "path leaves the session directory"
  let probe = target
  for (;;) {
    try {
      fs.lstatSync(probe)
      break
    } catch {
      const up = path.dirname(probe)
      if (up === probe) return "path cannot be resolved"
      probe = up
    }
  }
  // Nothing exists at or under the root yet: nothing there can be a symlink.
  if (!isWithin(root, probe)) return undefined
  const real = realpath(probe)
  const realRoot = realpath(root)
  if (real === undefined || realRoot === undefined) return "path cannot be resolved"
  return isWithin(realRoot, real) ? undefined : "path leaves the session directory through a link"
}

const ipv4 = (host: string): [number, number, number, number] | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (m === null) return undefined
  const parts = m.slice(1).map(Number) as [number, number, number, number]
  return parts.every((n) => n <= 255) ? parts : undefined
}

/** Loopback, private, link-local, CGNAT, benchmark, documentation, multicast, reserved, unspecified. */
const internalV4 = ([a, b, c]: readonly [number, number, number, number]): boolean =>
  a === 0 ||
  a === 10 ||
  a === 127 ||
  a >= 224 ||
  (a === 100 && b >= 64 && b <= 127) ||
  (a === 169 && b === 254) ||
  (a === 172 && b >= 16 && b <= 31) ||
  (a === 192 && b === 168) ||
  (a === 192 && b === 0 && (c === 0 || c === 2)) ||
  (a === 198 && (b === 18 || b === 19)) ||
  (a === 198 && b === 51 && c === 100) ||
  (a === 203 && b === 0 && c === 113)

/** The eight 16-bit groups of an IPv6 literal as the WHATWG URL parser serialises it (no brackets). */
const ipv6Groups = (host: string): ReadonlyArray<number> | undefined => {
  const halves = host.split("::")
  if (halves.length > 2) return undefined
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)))
  const head = parse(halves[0] ?? "")
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : []
  const fill = 8 - head.length - tail.length
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined
  const groups = [...head, ...Array<number>(fill).fill(0), ...tail]
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

const v4Of = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255] as const

const internalV6 = (g: ReadonlyArray<number>): boolean => {
  const [g0 = 0, g1 = 0, g2 = 0, , , g5 = 0, g6 = 0, g7 = 0] = g
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0)
  if (zeroTo(6) && g6 === 0 && (g7 === 0 || g7 === 1)) return true // :: and ::1
  if (zeroTo(5) && g5 === 0xffff) return internalV4(v4Of(g6, g7)) // IPv4-mapped
  if (zeroTo(6)) return internalV4(v4Of(g6, g7)) // IPv4-compatible
  if (g0 === 0x64 && g1 === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return internalV4(v4Of(g6, g7)) // NAT64
  if (g0 === 0x2002) return internalV4(v4Of(g1, g2)) // 6to4
  return (g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xff00) === 0xff00
}

const INTERNAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".lan",
  ".home.arpa",
  ".localdomain"
]

/** Whether `host` (a WHATWG-normalised URL host name) names an internal address or name. */
export const isInternalHost = (host: string): boolean => {
  const h = host.toLowerCase().replace(/\.$/, "")
  if (h.startsWith("[")) {
    const groups = ipv6Groups(h.slice(1, -1))
    return groups === undefined || internalV6(groups)
  }
  const v4 = ipv4(h)
  if (v4 !== undefined) return internalV4(v4)
  if (/^[0-9.]+$/.test(h) || /^0x/i.test(h)) return true // numeric forms the parser did not normalise
  if (h === "localhost" || !h.includes(".")) return true
  return INTERNAL_SUFFIXES.some((s) => h.endsWith(s))
}

/** Whether `host` is on `allow` (exact names, or `*.example.com` for strict subdomains). */
export const hostAllowed = (host: string, allow: ReadonlyArray<string>): boolean => {
  const h = host.toLowerCase().replace(/\.$/, "")
  return allow.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith("*.") ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e
  })
}

/** Why `candidate` is not an allowed URL, or `undefined`. */
export const urlError = (candidate: unknown, hosts: ReadonlyArray<string>): string | undefined => {
  if (typeof candidate !== "string" || candidate.length > 8192) return "not a URL"
  let url: URL
  try {
    url = new URL(candidate)
  } catch {
    return "not a URL"
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "URL scheme not allowed"
  if (url.username !== "" || url.password !== "") return "credentials in URL"
  if (isInternalHost(url.hostname)) return "internal host refused"
  return hostAllowed(url.hostname, hosts) ? undefined : "host not on the allow-list"
}

/**
 * The first constraint `args` (encoded, JSON) breaks, as a short token-free reason, or `undefined`.
 * `sessionDir` is the absolute root of `paths` fields.
 */
export const constraintError = (
  constraints: ArgumentConstraints,
  args: unknown,
  sessionDir: string
): string | undefined => {
  for (const field of constraints.paths ?? []) {
    for (const v of valuesAt(args, field)) {
      const refused = pathJailError(sessionDir, v)
      if (refused !== undefined) return `${field}: ${refused}`
    }
  }
  for (const field of constraints.urls?.fields ?? []) {
    for (const v of valuesAt(args, field)) {
      const refused = urlError(v, constraints.urls?.hosts ?? [])
      if (refused !== undefined) return `${field}: ${refused}`
    }
  }
  for (const [field, allowed] of Object.entries(constraints.values ?? {})) {
    for (const v of valuesAt(args, field)) {
      if (!allowed.some((a) => a === v)) return `${field}: value not on the allow-list`
    }
  }
  return undefined
}
