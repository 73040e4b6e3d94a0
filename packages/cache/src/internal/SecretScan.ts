/**
 * Detection of credential-shaped text in cache writes (threat MC-05).
 *
 * @internal
 */
import { SecretInCacheError } from "../Errors.js"

type Shape = SecretInCacheError["reason"]
type Field = SecretInCacheError["field"]

const SHAPES: ReadonlyArray<readonly [Shape, RegExp]> = [
  // compact JWS / JWT: base64url('{"...') . base64url('{"...') . (RFC 7515 §7.1)
  ["jws", /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./],
  // PEM encapsulation boundary (RFC 7468 §2)
  ["pem", /-----BEGIN/],
  // JWK private exponent / private key member "d" (RFC 7518 §6.2.2.1, §6.3.2.1; RFC 8037 §2)
  ["jwk-private", /"d"\s*:\s*"/]
]

/** All shapes in one pattern: a single pass over text that holds none of them (the common case). */
const ANY = new RegExp(SHAPES.map(([, pattern]) => pattern.source).join("|"))

/** The first credential shape found in `text`, if any (in the order of `SHAPES`). */
export const secretShape = (text: string): Shape | undefined => {
  if (!ANY.test(text)) return undefined
  for (const [shape, pattern] of SHAPES) if (pattern.test(text)) return shape
  return undefined
}

const leaves = (value: unknown, out: Array<string>): Array<string> => {
  if (typeof value === "string") out.push(value)
  else if (Array.isArray(value)) for (const item of value) leaves(item, out)
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      leaves(v, out)
    }
  return out
}

/**
 * Checks each `[field, text]`; for `meta` pass the serialised JSON and the object: the JSON catches a
 * meta that is itself a JWK (`{"d":"…"}`), the string leaves catch JSON-escaped credentials inside.
 */
export const findSecret = (
  texts: ReadonlyArray<readonly [Field, string]>,
  meta?: readonly [json: string, value: unknown]
): SecretInCacheError | undefined => {
  const candidates: Array<readonly [Field, string]> = [...texts]
  if (meta !== undefined && meta[0] !== "{}") {
    candidates.push(["meta", meta[0]])
    for (const leaf of leaves(meta[1], [])) candidates.push(["meta", leaf])
  }
  for (const [field, text] of candidates) {
    const reason = secretShape(text)
    if (reason !== undefined) return new SecretInCacheError({ reason, field })
  }
  return undefined
}
