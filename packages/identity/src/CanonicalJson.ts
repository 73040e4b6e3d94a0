/**
 * Canonical JSON text of a value and the request-binding hash of a tool call built on it: one byte
 * string per value, whoever serialises it, so that the broker and a tenant worker hash the same
 * arguments to the same claim. Object keys are sorted by UTF-16 code units and numbers use the
 * ECMAScript shortest form, as in RFC 8785 (JCS); no whitespace.
 *
 * @module
 */
import { createHash } from "node:crypto"

/** Deepest nesting accepted by {@link canonicalJson}. */
export const MAX_JSON_DEPTH = 64

const isPlainObject = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const walk = (value: unknown, depth: number, seen: Set<object>): string => {
  if (value === null) return "null"
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("non-finite number")
      return JSON.stringify(value)
    case "object": {
      if (depth >= MAX_JSON_DEPTH) throw new TypeError("nesting too deep")
      if (seen.has(value)) throw new TypeError("cycle")
      seen.add(value)
      let out: string
      if (Array.isArray(value)) {
        out = `[${value.map((item) => walk(item, depth + 1, seen)).join(",")}]`
      } else {
        if (!isPlainObject(value)) throw new TypeError("not a plain object")
        const entries = Object.keys(value)
          .sort()
          .flatMap((key) => {
            const item = (value as Record<string, unknown>)[key]
            return item === undefined ? [] : [`${JSON.stringify(key)}:${walk(item, depth + 1, seen)}`]
          })
        out = `{${entries.join(",")}}`
      }
      seen.delete(value)
      return out
    }
    default:
      throw new TypeError(`not JSON: ${typeof value}`)
  }
}

/**
 * The canonical JSON text of `value`: plain objects (keys sorted, `undefined` members left out),
 * arrays, strings, finite numbers, booleans and `null`, at most {@link MAX_JSON_DEPTH} levels.
 * Throws a `TypeError` on anything else (`undefined` at top level or in an array, functions,
 * symbols, bigints, non-finite numbers, class instances such as `Date`, cycles).
 */
export const canonicalJson = (value: unknown): string => walk(value, 0, new Set())

/**
 * The request-binding claim (`rqb`) of a tool call: base64url (no padding) SHA-256 of
 * `<tool name> NUL <canonical JSON of the arguments>` — 43 characters. `canonicalArgs` must already
 * be canonical ({@link canonicalJson}). Threat RP-03: a call token is good for this tool and these
 * arguments only.
 */
export const requestBinding = (tool: string, canonicalArgs: string): string =>
  createHash("sha256").update(tool, "utf8").update("\u0000").update(canonicalArgs, "utf8").digest("base64url")
