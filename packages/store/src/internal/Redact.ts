/**
 * Defence in depth for G-LEAK: strings written to the audit log or the trace store are scrubbed of
 * anything shaped like a compact JWS/JWT or a PEM block before they are stored.
 */

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g

/** Placeholder that replaces token material. */
export const REDACTED = "[REDACTED]"

/** Text without either marker holds nothing to redact (checked first: most strings carry neither). */
const MARKERS = /eyJ|-----BEGIN /

/** `s` with every JWT-shaped substring and PEM block replaced by `[REDACTED]`. */
export const redactString = (s: string): string =>
  MARKERS.test(s) ? s.replace(PEM, REDACTED).replace(JWT, REDACTED) : s

/** Deep copy of a JSON-like value with every string (keys included) passed through `redactString`. */
export const redactJson = (value: unknown): unknown => {
  if (typeof value === "string") return redactString(value)
  if (Array.isArray(value)) return value.map(redactJson)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[redactString(k)] = redactJson(v)
    return out
  }
  return value
}
