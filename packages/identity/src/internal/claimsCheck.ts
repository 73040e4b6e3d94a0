/**
 * A hand-written check of the `TaskClaims` profile, equivalent to `decodeTaskClaims` (the strict
 * `Schema` decoder: exact properties, every field rule) but without its per-call cost. The verifier
 * uses it on every newly verified link; `test/ClaimsCheck.test.ts` checks that both agree.
 *
 * @internal
 */
import type { Actor, TaskClaims } from "../Claims.js"
import { isValidTenantId } from "../SpiffeId.js"
import { spiffePartsOf } from "./memo.js"

const USER_ID = /^[\x21-\x7e]{1,256}$/
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const SCOPE = /^[\x21-\x29\x2b-\x7e]{1,256}$/
const TOKEN_ID = /^[A-Za-z0-9_-]{22}$/
const TOKEN_HASH = /^[A-Za-z0-9_-]{43}$/
const CLAIM_NAMES = new Set([
  "iss",
  "sub",
  "aud",
  "tnt",
  "sid",
  "usr",
  "txn",
  "int",
  "scp",
  "iat",
  "nbf",
  "exp",
  "jti",
  "dep",
  "prev",
  "act"
])

type Obj = Record<string, unknown>

const isObject = (u: unknown): u is Obj => typeof u === "object" && u !== null && !Array.isArray(u)
const isString = (u: unknown): u is string => typeof u === "string"
const matches = (u: unknown, re: RegExp): u is string => typeof u === "string" && re.test(u)
const isAgentUri = (u: unknown): u is string => typeof u === "string" && spiffePartsOf(u) !== undefined
const isEpoch = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0

/** Exactly `sub` and optionally `act`, recursively (RFC 8693 §4.1); a fresh copy, or `undefined`. */
const checkActor = (u: unknown): Actor | undefined => {
  if (!isObject(u)) return undefined
  for (const key of Object.keys(u)) if (key !== "sub" && key !== "act") return undefined
  if (!isAgentUri(u.sub)) return undefined
  if (!Object.hasOwn(u, "act")) return { sub: u.sub }
  const act = checkActor(u.act)
  return act === undefined ? undefined : { sub: u.sub, act }
}

/** Non-empty, every element a scope, strictly ascending; a fresh copy, or `undefined`. */
const checkScopes = (u: unknown): TaskClaims["scp"] | undefined => {
  if (!Array.isArray(u) || u.length === 0) return undefined
  for (let i = 0; i < u.length; i++) {
    if (!matches(u[i], SCOPE)) return undefined
    if (i > 0 && (u[i - 1] as string) >= (u[i] as string)) return undefined
  }
  return u.slice() as unknown as TaskClaims["scp"]
}

/**
 * The claims `u` holds when it satisfies the `TaskClaims` profile exactly (no other property), as
 * a fresh object with the properties in schema order; `undefined` otherwise.
 */
export const checkTaskClaims = (u: unknown): TaskClaims | undefined => {
  if (!isObject(u)) return undefined
  for (const key of Object.keys(u)) if (!CLAIM_NAMES.has(key)) return undefined
  const { iss, sub, aud, tnt, sid, usr, txn, int, iat, nbf, exp, jti, dep } = u
  if (!isString(iss) || iss.length === 0) return undefined
  if (!isAgentUri(sub) || !isAgentUri(aud)) return undefined
  if (!isString(tnt) || !isValidTenantId(tnt) || !isString(sid) || !isValidTenantId(sid)) return undefined
  if (!matches(usr, USER_ID) || !matches(txn, TASK_ID) || !matches(int, TASK_ID)) return undefined
  const scp = checkScopes(u.scp)
  if (scp === undefined) return undefined
  if (!isEpoch(iat) || !isEpoch(nbf) || !isEpoch(exp) || !isEpoch(dep)) return undefined
  if (!matches(jti, TOKEN_ID)) return undefined
  const claims: { -readonly [K in keyof TaskClaims]: TaskClaims[K] } = {
    iss,
    sub,
    aud,
    tnt,
    sid,
    usr,
    txn,
    int,
    scp,
    iat,
    nbf,
    exp,
    jti,
    dep
  }
  if (Object.hasOwn(u, "prev")) {
    if (!matches(u.prev, TOKEN_HASH)) return undefined
    claims.prev = u.prev
  }
  if (Object.hasOwn(u, "act")) {
    const act = checkActor(u.act)
    if (act === undefined) return undefined
    claims.act = act
  }
  return claims
}
