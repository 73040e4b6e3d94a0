import { createHmac } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { decodeJwt } from "jose"
import { Effect } from "effect"
import { KeyRing, type TaskClaims, TokenService, verifyChain } from "../src/index.js"
import { A, atNow, NOW, rawToken, rootRequest, sign, TestLayer, threeHop, verifyOptions } from "./support.js"

/** Runs `verifyChain` with tenant A's JWKS and returns the failure (or the success). */
const verifyA = (chain: ReadonlyArray<string>, overrides: Parameters<typeof verifyOptions>[1] = {}) =>
  Effect.gen(function* () {
    const jwks = yield* (yield* TokenService).jwks(A)
    return yield* verifyChain(chain, verifyOptions(jwks, overrides))
  })

const failure = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.flip(self)

describe("verifyChain: one token (header, signature, claims)", () => {
  it.effect("LS-04 alg none, HS256 keyed with the public key, and a missing alg fail with reason alg", () =>
    Effect.gen(function* () {
      yield* atNow
      const tokens = yield* TokenService
      const root = yield* tokens.mintRoot(rootRequest())
      const jwks = yield* tokens.jwks(A)
      const kid = jwks.keys[0]!.kid!
      const payload = decodeJwt(root.token)
      const none = rawToken({ alg: "none", typ: "cordon-task+jwt", kid }, payload)
      const hsHeader = { alg: "HS256", typ: "cordon-task+jwt", kid }
      const unsigned = rawToken(hsHeader, payload).slice(0, -1)
      const mac = createHmac("sha256", Buffer.from(jwks.keys[0]!.x!, "base64url"))
        .update(unsigned)
        .digest("base64url")
      const hs256 = `${unsigned}.${mac}`
      const noAlg = rawToken({ typ: "cordon-task+jwt", kid }, payload, root.token.split(".")[2])
      for (const token of [none, hs256, noAlg]) {
        expect(yield* failure(verifyA([token]))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "alg" })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect(
    "LS-04 embedded jwk, jku, x5u, x5c and crit headers fail with reason header; wrong typ with typ",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const keys = yield* KeyRing
        const root = yield* (yield* TokenService).mintRoot(rootRequest())
        const key = yield* keys.signingKey(A)
        const jwk = (yield* keys.jwks(A)).keys[0]!
        const payload = decodeJwt(root.token)
        const headers = [
          { jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } },
          { jku: "https://attacker.example/jwks.json" },
          { x5u: "https://attacker.example/cert.pem" },
          { x5c: ["MIIB"] }
        ]
        for (const header of headers) {
          const token = yield* sign(payload, key, header)
          expect(yield* failure(verifyA([token]))).toMatchObject({
            code: "E_TOKEN_INVALID",
            reason: "header"
          })
        }
        const crit = rawToken(
          { alg: "EdDSA", typ: "cordon-task+jwt", kid: key.kid, crit: ["exp"] },
          payload,
          "AAAA"
        )
        expect(yield* failure(verifyA([crit]))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "header" })
        for (const typ of ["JWT", "at+jwt", "application/cordon-task+jwt"]) {
          const token = yield* sign(payload, key, { typ })
          expect(yield* failure(verifyA([token]))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "typ" })
        }
        const noKid = rawToken({ alg: "EdDSA", typ: "cordon-task+jwt" }, payload, root.token.split(".")[2])
        expect(yield* failure(verifyA([noKid]))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "kid" })
      }).pipe(Effect.provide(TestLayer))
  )

  it.effect("JWE-shaped, oversized, empty and garbage inputs fail with malformed", () =>
    Effect.gen(function* () {
      yield* atNow
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      const jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aGVsbG8.d29ybGQ.dGFn"
      const oversized = `${root.token.split(".")[0]}.${"A".repeat(9000)}.${root.token.split(".")[2]}`
      for (const chain of [[jwe], [oversized], ["not a token"], [`${root.token}.`], []]) {
        expect(yield* failure(verifyA(chain))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "malformed" })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("claims outside the profile or from another issuer fail with reason claims", () =>
    Effect.gen(function* () {
      yield* atNow
      const key = yield* (yield* KeyRing).signingKey(A)
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      const claims = decodeJwt(root.token)
      const variants: Array<Record<string, unknown>> = [
        { ...claims, role: "admin" },
        { ...claims, scp: ["mail:read", "crm:read"] },
        { ...claims, scp: [] },
        { ...claims, exp: NOW + 10.5 },
        { ...claims, aud: [claims.aud] },
        { ...claims, iss: "https://cordon.local/tenant/tenant-b" },
        { ...claims, jti: undefined }
      ]
      for (const payload of variants) {
        const token = yield* sign(payload, key)
        expect(yield* failure(verifyA([token]))).toMatchObject({ code: "E_TOKEN_INVALID", reason: "claims" })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("error messages carry no token or claim values", () =>
    Effect.gen(function* () {
      yield* atNow
      const { chain } = yield* threeHop
      const err = yield* failure(verifyA([chain[0]!, chain[2]!]))
      const text = `${err.message} ${JSON.stringify(err)}`
      expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/)
      expect(text).not.toContain(A)
      expect(text).not.toContain((decodeJwt(chain[0]!) as unknown as TaskClaims).jti)
    }).pipe(Effect.provide(TestLayer))
  )
})
