/**
 * Fixtures of the property-based chain tests: keys from a real key ring (an active key per tenant
 * and a retired, compromised one), a fast signer (node:crypto, bypassing every TokenService rule),
 * a fast-check arbitrary of valid chain specifications and the chain builder.
 */
import { createHash, type KeyObject, sign } from "node:crypto"
import fc from "fast-check"
import { Effect, Layer } from "effect"
import {
  type Jwks,
  KeyRing,
  KeyStore,
  MasterKey,
  type TaskClaims,
  TOKEN_TYPE,
  tenantIssuer,
  tokenHash
} from "../src/index.js"
import { A, B, TD } from "./support.js"

export const MAX_DEPTH = 4
export const SCOPE_POOL = [
  "crm:read",
  "crm:write",
  "mail:read",
  "mail:send",
  "docs:read",
  "pay:refund",
  "web:search"
]
export const SESSIONS = ["sess-1", "sess-2", "s-9"]
export const TXNS = ["task-1", "task-2", "t:42"]

export interface Signer {
  readonly kid: string
  readonly key: KeyObject
}

export interface Keys {
  readonly a: Signer
  readonly b: Signer
  /** Tenant A's first key, retired as compromised. */
  readonly retired: Signer
  /** Tenant A's published JWKS (the active key only). */
  readonly jwksA: Jwks
}

/** Keys from a persistent key ring: A's first key retired as compromised, then A's and B's active keys. */
export const makeKeys = (): Promise<Keys> =>
  Effect.gen(function* () {
    const ring = yield* KeyRing
    const retired = yield* ring.signingKey(A)
    yield* ring.retire(A, retired.kid, { compromised: true })
    const a = yield* ring.signingKey(A)
    const b = yield* ring.signingKey(B)
    const jwksA = yield* ring.jwks(A)
    return { a, b, retired, jwksA } as unknown as Keys
  }).pipe(
    Effect.provide(
      KeyRing.layerPersistent.pipe(Layer.provide(Layer.merge(KeyStore.layerMemory, MasterKey.layerGenerated)))
    ),
    Effect.runPromise
  )

const enc = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url")

/** Signs `payload` under `header` with Ed25519, bypassing every rule. */
export const signRaw = (header: Record<string, unknown>, payload: unknown, key: KeyObject): string => {
  const input = `${enc(header)}.${enc(payload)}`
  return `${input}.${sign(null, Buffer.from(input, "ascii"), key).toString("base64url")}`
}

/** Signs task claims as a well-formed task token (`alg: EdDSA`, `typ`, `kid`). */
export const signClaims = (claims: TaskClaims | Record<string, unknown>, signer: Signer): string =>
  signRaw({ alg: "EdDSA", typ: TOKEN_TYPE, kid: signer.kid }, claims, signer.key)

export const agentUri = (tenant: string, agent: string) => `spiffe://${TD}/tenant/${tenant}/agent/${agent}`

/** A random valid chain, described by its parameters. */
export interface ChainSpec {
  readonly depth: number
  readonly agents: ReadonlyArray<string>
  readonly rootScopes: ReadonlyArray<string>
  /** Per hop: which of the parent's scopes the child keeps. */
  readonly keep: ReadonlyArray<ReadonlyArray<boolean>>
  readonly rootTtl: number
  readonly delays: ReadonlyArray<number>
  readonly ttls: ReadonlyArray<number>
  readonly session: string
  readonly txn: string
  readonly user: string
  readonly t0: number
  readonly nowFraction: number
}

const hops = (arb: fc.Arbitrary<number>) => fc.array(arb, { minLength: MAX_DEPTH, maxLength: MAX_DEPTH })

export const chainSpec: fc.Arbitrary<ChainSpec> = fc.record({
  depth: fc.integer({ min: 0, max: MAX_DEPTH }),
  agents: fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/), {
    minLength: MAX_DEPTH + 1,
    maxLength: MAX_DEPTH + 1
  }),
  rootScopes: fc.uniqueArray(fc.constantFrom(...SCOPE_POOL), { minLength: 1, maxLength: 5 }),
  keep: fc.array(fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), {
    minLength: MAX_DEPTH,
    maxLength: MAX_DEPTH
  }),
  rootTtl: fc.integer({ min: 2, max: 300 }),
  delays: hops(fc.integer({ min: 0, max: 30 })),
  ttls: hops(fc.integer({ min: 1, max: 300 })),
  session: fc.constantFrom(...SESSIONS),
  txn: fc.constantFrom(...TXNS),
  user: fc.constantFrom("alice@example.com", "bob", "u-1"),
  t0: fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
  nowFraction: fc.double({ min: 0, max: 1, noNaN: true })
})

const jtiOf = (spec: ChainSpec, i: number): string =>
  createHash("sha256")
    .update(`${JSON.stringify(spec)}|${i}`)
    .digest("base64url")
    .slice(0, 22)

/** A built chain: tokens root first, their claims, and the instant at which every link is valid. */
export interface Chain {
  readonly tokens: ReadonlyArray<string>
  readonly claims: ReadonlyArray<TaskClaims>
  readonly nowSec: number
}

/** Builds the valid chain `spec` describes, signed with tenant A's active key. */
export const buildChain = (spec: ChainSpec, signer: Signer): Chain => {
  const root: TaskClaims = {
    iss: tenantIssuer(A),
    sub: agentUri(A, spec.agents[0]!),
    aud: agentUri(A, spec.agents[0]!),
    tnt: A,
    sid: spec.session,
    usr: spec.user,
    txn: spec.txn,
    int: "triage_inbox",
    scp: [...spec.rootScopes].sort() as unknown as TaskClaims["scp"],
    iat: spec.t0,
    nbf: spec.t0,
    exp: spec.t0 + spec.rootTtl,
    jti: jtiOf(spec, 0),
    dep: 0
  }
  const claims: Array<TaskClaims> = [root]
  const tokens: Array<string> = [signClaims(root, signer)]
  for (let i = 1; i <= spec.depth; i++) {
    const parent = claims[i - 1]!
    const kept = parent.scp.filter((_, j) => spec.keep[i - 1]![j] ?? true)
    const nbf = Math.min(parent.nbf + spec.delays[i - 1]!, parent.exp - 1)
    const sub = agentUri(A, spec.agents[i]!)
    const child: TaskClaims = {
      ...parent,
      sub,
      aud: sub,
      scp: (kept.length > 0 ? kept : [parent.scp[0]!]) as unknown as TaskClaims["scp"],
      iat: nbf,
      nbf,
      exp: Math.min(parent.exp, nbf + spec.ttls[i - 1]!),
      jti: jtiOf(spec, i),
      dep: i,
      prev: tokenHash(tokens[i - 1]!),
      act: parent.act === undefined ? { sub: parent.sub } : { sub: parent.sub, act: parent.act }
    }
    claims.push(child)
    tokens.push(signClaims(child, signer))
  }
  const leaf = claims[claims.length - 1]!
  const nowSec = leaf.nbf + Math.floor(spec.nowFraction * (leaf.exp - leaf.nbf - 1))
  return { tokens, claims, nowSec }
}
