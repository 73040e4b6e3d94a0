/**
 * Token-verification fuzzing through the real `verifyChain`: random strings, random and mutated compact JWS
 * (bit flips, bad base64url, oversized, deeply nested JSON, wrong claim types, alg/typ/kid/crit/jwk header
 * variants re-signed with the tenant's real key, HS256 with the public key as MAC secret) and mutated
 * delegation chains. Every input is invalid by construction: the only chain that may verify is the
 * genuine one. A crash is a thrown exception or a defect; an acceptance is any other input that verifies.
 */
import { KeyRing } from "@cordon/identity/KeyRing"
import { RevocationList } from "@cordon/identity/RevocationList"
import { TokenService } from "@cordon/identity/TokenService"
import { tenantIssuer } from "@cordon/identity/Claims"
import {
  MAX_TOKEN_LENGTH,
  makeVerifiedChainCache,
  type VerifyOptions,
  verifyChain
} from "@cordon/identity/Verifier"
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import fc from "fast-check"
import { createHmac, type KeyObject, sign } from "node:crypto"
import { type FuzzTally, newTally, record } from "./tally.js"

const TD = "cordon.test"
const A = "tenant-a"
const B = "tenant-b"
const agent = (tenant: string, name: string) => `spiffe://${TD}/tenant/${tenant}/agent/${name}`
const enc = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url")
const parts = (token: string) => token.split(".") as [string, string, string]
const decode = (segment: string) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))

/** Genuine tokens, the tenant's signing key and what a broker passes to `verifyChain`. */
const setup = Effect.gen(function* () {
  const tokens = yield* TokenService
  const ring = yield* KeyRing
  const now = Math.floor(Date.now() / 1000)
  const root = (tenant: string) =>
    tokens.mintRoot({
      tenant,
      session: "sess-1",
      user: "alice@example.com",
      txn: "task-1",
      agent: "orchestrator",
      intent: "triage_inbox",
      scopes: ["crm:read", "mail:read"],
      ttlSeconds: 120,
      notAfter: now + 3600,
      trustDomain: TD
    })
  const hop = (chain: ReadonlyArray<string>, toAgent: string, scopes: ReadonlyArray<string>) =>
    tokens.exchange({
      chain,
      toAgent,
      intent: "triage_inbox",
      requestedScopes: scopes,
      allowedScopes: ["crm:read", "mail:read"],
      ttlSeconds: 60,
      maxDepth: 4,
      trustDomain: TD,
      tenant: A
    })
  const rootA = yield* root(A)
  const hop1 = yield* hop([rootA.token], "researcher", ["crm:read", "mail:read"])
  const hop2 = yield* hop([rootA.token, hop1.token], "writer", ["crm:read"])
  const rootB = yield* root(B)
  const key = yield* ring.signingKey(A)
  const jwks = yield* tokens.jwks(A)
  return { rootA: rootA.token, hop1: hop1.token, hop2: hop2.token, rootB: rootB.token, key, jwks }
})

type Setup = Effect.Effect.Success<typeof setup>

/** Re-signs `header.payload` with tenant A's real key: only the header/claims can make it invalid. */
const resign = (s: Setup, header: unknown, payload: unknown, rawPayload?: string) => {
  const input = `${enc(header)}.${enc(rawPayload ?? payload)}`
  return `${input}.${sign(null, Buffer.from(input), s.key.key as KeyObject).toString("base64url")}`
}

/** Random compact-JWS-shaped strings and raw garbage. */
const garbage = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .array(fc.stringMatching(/^[A-Za-z0-9_=+/-]{0,120}$/), { minLength: 1, maxLength: 6 })
    .map((segments) => segments.join(".")),
  fc
    .tuple(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 80 }))
    .map(([h, p, sig]) => `${enc(h ?? null)}.${enc(p ?? null)}.${Buffer.from(sig).toString("base64url")}`),
  fc
    .oneof(
      fc.integer({ min: MAX_TOKEN_LENGTH - 8, max: MAX_TOKEN_LENGTH + 8 }),
      fc.constantFrom(65_536, 1_000_000)
    )
    .map((n) => `${"eyJ".padEnd(n - 9, "A")}.e30.AAAA`)
)

/** Bit flips, truncations and base64url damage of a genuine token. */
const damaged = (token: string) =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.nat({ max: token.length - 1 }), fc.integer({ min: 0, max: 7 })), {
        minLength: 1,
        maxLength: 4
      })
      .map((flips) => {
        const bytes = Buffer.from(token, "latin1")
        for (const [i, bit] of flips) bytes[i] = (bytes[i] ?? 0) ^ (1 << bit)
        return bytes.toString("latin1")
      }),
    fc.nat({ max: token.length - 1 }).map((n) => token.slice(0, n)),
    fc
      .constantFrom("=", "==", "+", "/", " ", "\n", ".", "..", "%3D")
      .chain((junk) => fc.nat({ max: token.length }).map((i) => token.slice(0, i) + junk + token.slice(i)))
  )

const WRONG_TYPES = [null, 0, 1.5, -1, true, "", "x", [], [1], {}, { a: 1 }]
/** JSON text of `n` nested arrays around `"x"` (built as text: `JSON.stringify` would overflow the stack). */
const deep = (n: number) => `${"[".repeat(n)}"x"${"]".repeat(n)}`

/** Header variants that the profile `{ alg: EdDSA, typ: cordon-task+jwt, kid }` refuses, re-signed. */
const badHeaders = (s: Setup) => {
  const { payload } = { payload: decode(parts(s.rootA)[1]) }
  const base = decode(parts(s.rootA)[0]) as Record<string, unknown>
  const variant = fc.oneof(
    fc.record({
      alg: fc.constantFrom("none", "HS256", "RS256", "ES256", "PS256", "eddsa", "", "Ed25519", null, 1)
    }),
    fc.record({
      typ: fc.constantFrom("JWT", "jwt", "at+jwt", "CORDON-TASK+JWT", "cordon-task", "", null, 0)
    }),
    fc.record({
      kid: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(null, 0, [], {}, "../../etc/passwd"))
    }),
    fc.record({ crit: fc.constantFrom(["exp"], ["b64"], [], "exp", ["x-unknown"]) }),
    fc
      .record({
        extra: fc.constantFrom("jwk", "jku", "x5u", "x5c", "x5t", "b64", "zip", "enc", "cty", "p2s", "epk"),
        value: fc.constantFrom(
          { kty: "OKP", crv: "Ed25519", x: "AAAA" },
          "https://evil.example/jwks",
          false,
          ["x"]
        )
      })
      .map(({ extra, value }) => ({ [extra]: value })),
    fc.constantFrom({ alg: undefined }, { typ: undefined }, { kid: undefined })
  )
  return variant
    .filter((v) => Object.entries(v).some(([k, x]) => base[k] !== x))
    .map((v) => resign(s, { ...base, ...v }, payload))
}

/** Claim mutations that break the token profile (wrong type, missing, foreign, out of time), re-signed. */
const badClaims = (s: Setup) => {
  const header = decode(parts(s.rootA)[0])
  const claims = decode(parts(s.rootA)[1]) as Record<string, unknown>
  const required = Object.keys(claims)
  const now = Math.floor(Date.now() / 1000)
  const invalid: Array<Record<string, unknown>> = [
    { tnt: B },
    { sub: agent(B, "orchestrator"), aud: agent(B, "orchestrator") },
    { aud: agent(A, "writer") },
    { iss: tenantIssuer(B) },
    { exp: now - 3600 },
    { nbf: now + 3600 },
    { iat: now + 3600 },
    { dep: 1 },
    { prev: "a".repeat(64) },
    { act: { sub: agent(A, "researcher") } },
    { scp: ["crm:*"] }
  ]
  return fc.oneof(
    fc.constantFrom(...required).map((k) => {
      const { [k]: _, ...rest } = claims
      return resign(s, header, rest)
    }),
    fc
      .tuple(fc.constantFrom(...required), fc.constantFrom(...WRONG_TYPES))
      .filter(([k, v]) => typeof v !== typeof claims[k] || Array.isArray(v) !== Array.isArray(claims[k]))
      .map(([k, v]) => resign(s, header, { ...claims, [k]: v })),
    fc.constantFrom(...invalid).map((o) => resign(s, header, { ...claims, ...o })),
    fc
      .tuple(fc.constantFrom(...required), fc.oneof(fc.integer({ min: 2, max: 200 }), fc.constant(5_000)))
      .map(([k, n]) =>
        resign(
          s,
          header,
          null,
          JSON.stringify({ ...claims, [k]: "\u0000deep" }).replace('"\\u0000deep"', deep(n))
        )
      ),
    fc.jsonValue({ maxDepth: 4 }).map((p) => resign(s, header, p)),
    fc.constant(
      (() => {
        const input = `${enc({ ...header, alg: "HS256" })}.${enc(claims)}`
        const x = (s.jwks.keys[0] as { x: string }).x
        return `${input}.${createHmac("sha256", Buffer.from(x, "base64url")).update(input).digest("base64url")}`
      })()
    )
  )
}

/** Delegation chains other than the genuine one (reordered, spliced, damaged, foreign, wrong types). */
const badChains = (s: Setup) => {
  const good = [s.rootA, s.hop1, s.hop2]
  return fc.oneof(
    fc.shuffledSubarray(good, { minLength: 0, maxLength: 3 }).filter((c) => c.join() !== good.join()),
    fc.array(fc.constantFrom(...good, s.rootB), { minLength: 1, maxLength: 7 }),
    fc.tuple(fc.nat({ max: 2 }), damaged(s.hop1)).map(([i, t]) => good.map((g, j) => (i === j ? t : g))),
    fc.array(fc.constantFrom<unknown>(null, 1, {}, [], undefined, s.rootA), { minLength: 1, maxLength: 3 })
  )
}

/** Runs the token fuzz: at least `runs` inputs across all families; returns the tally. */
export const fuzzTokens = async (runs: number, seed: number): Promise<FuzzTally> => {
  const runtime = ManagedRuntime.make(
    TokenService.layer.pipe(Layer.provideMerge(Layer.merge(KeyRing.layer, RevocationList.layer)))
  )
  const s = await runtime.runPromise(setup)
  await runtime.dispose()
  const cache = makeVerifiedChainCache({ maxEntries: 1000 })
  const options = (audience: string): VerifyOptions => ({
    tenant: A,
    issuer: tenantIssuer(A),
    audience,
    jwks: s.jwks,
    isRevoked: () => false,
    now: new Date(),
    maxDepth: 4,
    cache
  })
  const rootOptions = options(agent(A, "orchestrator"))
  const leafOptions = options(agent(A, "writer"))
  const good = [s.rootA, s.hop1, s.hop2]
  // The genuine inputs verify (so a rejection below is the verifier's judgement, not a broken setup).
  for (const [chain, opts] of [
    [[s.rootA], rootOptions],
    [good, leafOptions]
  ] as const) {
    const exit = Effect.runSyncExit(verifyChain(chain, opts))
    if (!Exit.isSuccess(exit)) throw new Error(`genuine chain rejected: ${Cause.pretty(exit.cause)}`)
  }
  const tally = newTally("tokens")
  const check = (chain: ReadonlyArray<unknown>, opts: VerifyOptions, genuine: string) => {
    record(
      tally,
      () => {
        const exit = Effect.runSyncExit(verifyChain(chain as ReadonlyArray<string>, opts))
        if (Exit.isSuccess(exit)) return JSON.stringify(chain) === genuine ? "valid" : "accepted"
        const failure = Cause.failureOption(exit.cause)
        if (failure._tag === "None") return "crash"
        return typeof (failure.value as { code?: unknown }).code === "string" ? "rejected" : "crash"
      },
      chain
    )
  }
  const rootGenuine = JSON.stringify([s.rootA])
  const chainGenuine = JSON.stringify(good)
  const families: Array<[fc.Arbitrary<ReadonlyArray<unknown>>, VerifyOptions, string, number]> = [
    [garbage.map((t) => [t]), rootOptions, rootGenuine, 0.2],
    [damaged(s.rootA).map((t) => [t]), rootOptions, rootGenuine, 0.2],
    [badHeaders(s).map((t) => [t]), rootOptions, rootGenuine, 0.15],
    [badClaims(s).map((t) => [t]), rootOptions, rootGenuine, 0.25],
    [badChains(s), leafOptions, chainGenuine, 0.2]
  ]
  let offset = 0
  for (const [arbitrary, opts, genuine, share] of families) {
    const n = Math.ceil(runs * share)
    for (let done = 0; done < n; done += 2000) {
      for (const input of fc.sample(arbitrary, {
        numRuns: Math.min(2000, n - done),
        seed: seed + offset++
      })) {
        check(input, opts, genuine)
      }
    }
  }
  return tally
}
