import { decodeJwt, type JWTPayload, SignJWT } from "jose"
import { Clock, Effect, Layer, TestClock } from "effect"
import {
  type Jwks,
  KeyRing,
  type MintRootRequest,
  RevocationList,
  type SigningKey,
  type TaskClaims,
  TokenService,
  tenantIssuer,
  tokenHash,
  type VerifyOptions
} from "../src/index.js"

/** 2025-06-15T12:00:00Z */
export const NOW_MS = Date.UTC(2025, 5, 15, 12, 0, 0)
export const NOW = NOW_MS / 1000
export const TD = "cordon.test"
export const A = "tenant-a"
export const B = "tenant-b"
export const agentUri = (tenant: string, agent: string) => `spiffe://${TD}/tenant/${tenant}/agent/${agent}`

export const TestLayer = TokenService.layer.pipe(
  Layer.provideMerge(Layer.merge(KeyRing.layer, RevocationList.layer))
)

/** Sets the TestClock to {@link NOW_MS}. */
export const atNow = TestClock.setTime(NOW_MS)

export const rootRequest = (overrides: Partial<MintRootRequest> = {}): MintRootRequest => ({
  tenant: A,
  session: "sess-1",
  user: "alice@example.com",
  txn: "task-1",
  agent: "orchestrator",
  intent: "triage_inbox",
  scopes: ["mail:read", "crm:read", "crm:write"],
  ttlSeconds: 120,
  notAfter: NOW + 3600,
  trustDomain: TD,
  ...overrides
})

/** A valid 3-link chain orchestrator → researcher → writer in tenant A, with each link's claims. */
export const threeHop = Effect.gen(function* () {
  const tokens = yield* TokenService
  const root = yield* tokens.mintRoot(rootRequest())
  const hop1 = yield* tokens.exchange({
    chain: [root.token],
    toAgent: "researcher",
    intent: "triage_inbox",
    requestedScopes: ["crm:read", "mail:read"],
    allowedScopes: ["crm:read", "mail:read", "web:search"],
    ttlSeconds: 90,
    maxDepth: 4,
    trustDomain: TD
  })
  const hop2 = yield* tokens.exchange({
    chain: [root.token, hop1.token],
    toAgent: "writer",
    intent: "triage_inbox",
    requestedScopes: ["crm:read"],
    allowedScopes: ["crm:read"],
    ttlSeconds: 60,
    maxDepth: 4,
    trustDomain: TD
  })
  return { root, hop1, hop2, chain: [root.token, hop1.token, hop2.token] }
})

export const verifyOptions = (jwks: Jwks, overrides: Partial<VerifyOptions> = {}): VerifyOptions => ({
  tenant: A,
  issuer: tenantIssuer(A),
  jwks,
  isRevoked: () => false,
  now: new Date(NOW_MS),
  maxDepth: 4,
  ...overrides
})

/** Signs an arbitrary payload and header with jose, bypassing every TokenService rule. */
export const sign = (
  payload: Record<string, unknown>,
  key: SigningKey,
  header: Record<string, unknown> = {}
): Effect.Effect<string> =>
  Effect.promise(() =>
    new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: "EdDSA", typ: "cordon-task+jwt", kid: key.kid, ...header })
      .sign(key.key)
  )

/** The claims a correct child of `parent` issued to `agent` would carry, with `overrides` applied. */
export const childClaims = (
  parent: string,
  agent: string,
  overrides: Record<string, unknown> = {}
): Record<string, unknown> => {
  const p = decodeJwt(parent) as unknown as TaskClaims
  const sub = agentUri(p.tnt, agent)
  return {
    ...p,
    sub,
    aud: sub,
    jti: "AAAAAAAAAAAAAAAAAAAAAA".slice(0, 21) + String(p.dep + 1),
    dep: p.dep + 1,
    prev: tokenHash(parent),
    act: p.act === undefined ? { sub: p.sub } : { sub: p.sub, act: p.act },
    ...overrides
  }
}

/** Unsecured or foreign-algorithm token text built by hand. */
export const rawToken = (
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = ""
) => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url")
  return `${enc(header)}.${enc(payload)}.${signature}`
}

/**
 * A clock whose wall time and monotonic time move independently, to simulate a wall clock stepped
 * by NTP while the monotonic clock keeps counting. Use with `Effect.withClock(clock)`.
 */
export const skewClock = (startMs: number) => {
  let wall = startMs
  let mono = BigInt(startMs) * 1_000_000n
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => wall,
    currentTimeMillis: Effect.sync(() => wall),
    unsafeCurrentTimeNanos: () => mono,
    currentTimeNanos: Effect.sync(() => mono),
    sleep: () => Effect.void
  }
  return {
    clock,
    /** Steps the wall clock only. */
    stepWall: (ms: number) => {
      wall += ms
    },
    /** Real time passes: both clocks advance. */
    elapse: (ms: number) => {
      wall += ms
      mono += BigInt(ms) * 1_000_000n
    }
  }
}

/** An `acme` agent's SPIFFE ID under the test trust domain. */
export const acmeUri = (agent: string) => agentUri("acme", agent)

/** A well-formed depth-2 claim set (for claim-decoding tests; not signed). */
export const sampleClaims: Readonly<Record<string, unknown>> = {
  iss: tenantIssuer("acme"),
  sub: acmeUri("writer"),
  aud: acmeUri("writer"),
  tnt: "acme",
  sid: "s1",
  usr: "u1",
  txn: "t1",
  int: "triage",
  scp: ["a:read", "b:read"],
  iat: 1,
  nbf: 1,
  exp: 2,
  jti: "A".repeat(22),
  dep: 2,
  prev: "B".repeat(43),
  act: { sub: acmeUri("researcher"), act: { sub: acmeUri("orchestrator") } }
}
