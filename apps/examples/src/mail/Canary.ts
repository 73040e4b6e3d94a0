/**
 * Tenant canaries: unique marker strings planted in one tenant's data so that a leak into any
 * other tenant's output, cache or log can be detected by a plain substring scan (G-LEAK).
 *
 * @module
 */
import { type Random, uuidLike } from "./internal/Prng.js"
import { clipText, MAX_TEXT_CHARS, type ParsedMail } from "./ParseMail.js"

/**
 * Matches one canary, e.g. `CANARY-acme-1f0c2a9e-5b7d-4c21-9e3a-0d4b8f6a7c12`. It has no `g`
 * flag; use `new RegExp(CANARY_PATTERN, "g")` to find them all.
 */
export const CANARY_PATTERN =
  /CANARY-[A-Za-z0-9._-]+?-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

/** `CANARY-<tenant>-<uuid-like>`, the suffix drawn from `random` (so fixed for a seed). */
export const makeCanary = (tenant: string, random: Random): string => `CANARY-${tenant}-${uuidLike(random)}`

/**
 * Returns `mail` with `canary` on a line of its own at the end of the body, as an internal
 * reference a customer might quote. The body is shortened first if needed so that `text` stays
 * within `MAX_TEXT_CHARS`.
 */
export const plantCanary = <M extends ParsedMail>(mail: M, canary: string): M => {
  const line = `Internal reference: ${canary}`
  const room = MAX_TEXT_CHARS - line.length - 2
  const body = clipText(mail.text, Math.max(0, room)).trimEnd()
  return { ...mail, text: body === "" ? line : `${body}\n\n${line}` }
}
