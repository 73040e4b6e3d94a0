/**
 * Small bounded memo tables for the verifier's hot path: pure functions of a string (a SPIFFE ID's
 * parts, an imported public key) computed once per distinct input. A table that reaches its bound
 * is emptied rather than tracked per entry: the inputs are few (agents, keys) and recomputing is
 * cheap, so a flood of distinct inputs costs time, never unbounded memory.
 *
 * @internal
 */
import { createPublicKey, type KeyObject } from "node:crypto"
import { parseSpiffeId } from "../SpiffeId.js"

/** A memo table over string inputs holding at most `bound` results. */
export const memoize = <A>(bound: number, f: (input: string) => A): ((input: string) => A) => {
  const table = new Map<string, A>()
  return (input) => {
    const hit = table.get(input)
    if (hit !== undefined || table.has(input)) return hit as A
    const value = f(input)
    if (table.size >= bound) table.clear()
    table.set(input, value)
    return value
  }
}

/** Trust domain and tenant of a valid agent SPIFFE ID (see `parseSpiffeId`). */
export interface SpiffeParts {
  readonly trustDomain: string
  readonly tenant: string
}

/** The parts of `uri` when it is a valid agent SPIFFE ID, else `undefined`; memoised. */
export const spiffePartsOf: (uri: string) => SpiffeParts | undefined = memoize(4096, (uri) => {
  const parsed = parseSpiffeId(uri)
  return parsed._tag === "Right"
    ? Object.freeze({ trustDomain: parsed.right.trustDomain, tenant: parsed.right.tenant })
    : undefined
})

/** The Ed25519 public key whose JWK `x` is `x`, or `undefined` when it does not import; memoised. */
export const ed25519PublicKey: (x: string) => KeyObject | undefined = memoize(1024, (x) => {
  try {
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" })
    return key.asymmetricKeyType === "ed25519" ? key : undefined
  } catch {
    return undefined
  }
})
