/**
 * Identity-level fixtures of the threat rows: a broker identity (key ring, revocation list, token
 * service) whose key ring counts signatures, so a test can assert that a refused request minted
 * nothing; two tenants (A attacker side, B victim side); a valid three-hop chain; and the checks
 * every refusal must pass (a typed error with a stable code, no JWT-shaped text in it).
 */
import { createHmac, type KeyObject, sign } from "node:crypto"
import {
  type ExchangeRequest,
  KeyRing,
  type MintRootRequest,
  RevocationList,
  type TaskClaims,
  TokenService,
  tenantIssuer,
  tokenHash,
  type VerifyOptions
} from "@cordon/identity"
import { Context, Effect, Layer, Ref, TestClock } from "effect"
import { expect } from "vitest"

/** 2025-06-15T12:00:00Z */
export const NOW_MS = Date.UTC(2025, 5, 15, 12, 0, 0)
export const NOW = NOW_MS / 1000
export const TD = "cordon.test"
/** Attacker-side tenant. */
export const A = "tenant-a"
/** Victim-side tenant. */
export const B = "tenant-b"
export const MAX_DEPTH = 4

export const agentUri = (tenant: string, agent: string) => `spiffe://${TD}/tenant/${tenant}/agent/${agent}`

/** How many times the key ring handed out a signing key (each mint or exchange signs once). */
export class SignCount extends Context.Tag("threat/SignCount")<SignCount, Ref.Ref<number>>() {}

/** The in-memory key ring, counting `signingKey` calls in {@link SignCount}. */
const CountingKeyRing = Layer.effect(
  KeyRing,
  Effect.gen(function* () {
    const ring = yield* KeyRing
    const count = yield* SignCount
    return KeyRing.of({
      ...ring,
      signingKey: (t) =>
        Effect.zipRight(
          Ref.update(count, (n) => n + 1),
          ring.signingKey(t)
        )
    })
  })
).pipe(Layer.provide(KeyRing.layer))

/** A broker's identity services over the given revocation list, with signatures counted. */
export const identityWith = (revocations: Layer.Layer<RevocationList>) =>
  TokenService.layer.pipe(
    Layer.provideMerge(Layer.merge(CountingKeyRing, revocations)),
    Layer.provideMerge(Layer.effect(SignCount, Ref.make(0)))
  )

/** A broker's identity services, with signatures counted. */
export const Identity = identityWith(RevocationList.layer)

/** Sets the TestClock to {@link NOW_MS}. */
export const atNow = TestClock.setTime(NOW_MS)

/** Signatures made so far. */
export const signatures = Effect.flatMap(SignCount, Ref.get)

export const rootRequest = (overrides: Partial<MintRootRequest> = {}): MintRootRequest => ({
  tenant: A,
  session: "sess-1",
  user: "alice@example.com",
  txn: "task-1",
  agent: "orchestrator",
  intent: "triage_inbox",
  scopes: ["crm:read", "mail:read"],
  ttlSeconds: 120,
  notAfter: NOW + 3600,
  trustDomain: TD,
  ...overrides
})

export const exchangeRequest = (
  chain: ReadonlyArray<string>,
  overrides: Partial<ExchangeRequest> = {}
): ExchangeRequest => ({
  chain,
  toAgent: "researcher",
  intent: "triage_inbox",
  requestedScopes: ["crm:read"],
  allowedScopes: ["crm:read", "crm:write", "mail:read"],
  ttlSeconds: 60,
  maxDepth: MAX_DEPTH,
  trustDomain: TD,
  tenant: A,
  ...overrides
})

/** A valid chain orchestrator → researcher → writer in tenant A. */
export const threeHop = Effect.gen(function* () {
  const tokens = yield* TokenService
  const root = yield* tokens.mintRoot(rootRequest())
  const hop1 = yield* tokens.exchange(
    exchangeRequest([root.token], { requestedScopes: ["crm:read", "mail:read"] })
  )
  const hop2 = yield* tokens.exchange(
    exchangeRequest([root.token, hop1.token], { toAgent: "writer", requestedScopes: ["crm:read"] })
  )
  return { root, hop1, hop2, chain: [root.token, hop1.token, hop2.token] }
})

/** What a broker passes to `verifyChain` for tenant A at {@link NOW}. */
export const verifyOptions = (overrides: Partial<VerifyOptions> = {}) =>
  Effect.gen(function* () {
    const tokens = yield* TokenService
    const revocations = yield* RevocationList
    const options: VerifyOptions = {
      tenant: A,
      issuer: tenantIssuer(A),
      jwks: yield* tokens.jwks(A),
      isRevoked: revocations.isRevoked,
      now: new Date(NOW_MS),
      maxDepth: MAX_DEPTH,
      ...overrides
    }
    return options
  })

const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** A compact token built by hand: `header.payload.signature` (signature as given). */
export const rawToken = (header: Record<string, unknown>, payload: unknown, signature = "") =>
  `${enc(header)}.${enc(payload)}.${signature}`

/** Signs `payload` with tenant `tenant`'s current key (node:crypto), bypassing every TokenService rule. */
export const forge = (
  tenant: string,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {}
) =>
  Effect.gen(function* () {
    const { kid, key } = yield* (yield* KeyRing).signingKey(tenant)
    const input = `${enc({ alg: "EdDSA", typ: "cordon-task+jwt", kid, ...header })}.${enc(payload)}`
    return `${input}.${sign(null, Buffer.from(input), key as KeyObject).toString("base64url")}`
  })

/** An HS256 token whose MAC key is the tenant's public key bytes (the classic algorithm confusion). */
export const hs256WithPublicKey = (publicX: string, kid: string, payload: unknown) => {
  const input = `${enc({ alg: "HS256", typ: "cordon-task+jwt", kid })}.${enc(payload)}`
  const mac = createHmac("sha256", Buffer.from(publicX, "base64url")).update(input).digest("base64url")
  return `${input}.${mac}`
}

/** The claims of a correct child of `parent` issued to `agent`, with `overrides`. */
export const childOf = (parent: string, agent: string, overrides: Record<string, unknown> = {}) => {
  const p = JSON.parse(Buffer.from(parent.split(".")[1]!, "base64url").toString("utf8")) as TaskClaims
  const sub = agentUri(p.tnt, agent)
  return {
    ...p,
    sub,
    aud: sub,
    jti: `forged${String(p.dep + 1).padStart(16, "0")}`,
    dep: p.dep + 1,
    prev: tokenHash(parent),
    act: p.act === undefined ? { sub: p.sub } : { sub: p.sub, act: p.act },
    ...overrides
  }
}

/** Decoded payload of a compact token (no verification; for building forgeries only). */
export const claimsOf = (token: string): TaskClaims =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as TaskClaims

/**
 * The refusal is a typed error with the expected `code` (and `reason` when given), and its
 * message and serialised form carry no JWT-shaped text.
 */
export const expectRefusal = (error: unknown, code: string, reason?: string) => {
  const { code: actualCode, reason: actualReason } = error as { code?: unknown; reason?: unknown }
  expect(reason === undefined ? { code: actualCode } : { code: actualCode, reason: actualReason }).toEqual(
    reason === undefined ? { code } : { code, reason }
  )
  const text = `${(error as Error).message} ${JSON.stringify(error)} ${String(error)}`
  expect(text).not.toMatch(/eyJ/)
}
