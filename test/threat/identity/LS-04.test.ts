/**
 * LS-04 — header-driven attacks on verification: `alg: none`, HS256 keyed with our public key,
 * `jku` / embedded `jwk` / `x5u` / `x5c` pointing at the attacker's key, `crit`, and a token of
 * another kind (another `typ`) presented as a task token. The algorithm is pinned, keys come only
 * from the local JWKS by `kid`, and `typ` is checked.
 */
import { generateKeyPairSync } from "node:crypto"
import { TokenService, verifyChain } from "@cordon/identity"
import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  A,
  atNow,
  claimsOf,
  expectRefusal,
  forge,
  hs256WithPublicKey,
  Identity,
  rawToken,
  rootRequest,
  verifyOptions
} from "./support.js"

describe("LS-04 header-driven attacks", () => {
  it.effect(
    "LS-04 alg none, HS256 keyed with the public key, another alg, or no alg fail with TokenInvalid(alg)",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const tokens = yield* TokenService
        const root = yield* tokens.mintRoot(rootRequest())
        const jwk = (yield* tokens.jwks(A)).keys[0]!
        const payload = claimsOf(root.token)
        const signature = root.token.split(".")[2]
        const variants = [
          rawToken({ alg: "none", typ: "cordon-task+jwt", kid: jwk.kid }, payload),
          hs256WithPublicKey(jwk.x!, jwk.kid!, payload),
          rawToken({ alg: "ES256", typ: "cordon-task+jwt", kid: jwk.kid }, payload, signature),
          rawToken({ alg: "Ed25519", typ: "cordon-task+jwt", kid: jwk.kid }, payload, signature),
          rawToken({ typ: "cordon-task+jwt", kid: jwk.kid }, payload, signature)
        ]
        const options = yield* verifyOptions()
        for (const token of variants) {
          expectRefusal(yield* Effect.flip(verifyChain([token], options)), "E_TOKEN_INVALID", "alg")
        }
      }).pipe(Effect.provide(Identity))
  )

  it.effect("LS-04 jku, embedded jwk, x5u, x5c and crit headers fail with TokenInvalid(header)", () =>
    Effect.gen(function* () {
      yield* atNow
      const root = yield* (yield* TokenService).mintRoot(rootRequest())
      const attacker = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" })
      const headers = [
        { jku: "https://attacker.example/jwks.json" },
        { jwk: attacker },
        { x5u: "https://attacker.example/cert.pem" },
        { x5c: ["MIIBattacker"] },
        { crit: ["exp"] }
      ]
      const options = yield* verifyOptions()
      for (const header of headers) {
        const token = yield* forge(A, claimsOf(root.token) as never, header)
        expectRefusal(yield* Effect.flip(verifyChain([token], options)), "E_TOKEN_INVALID", "header")
      }
    }).pipe(Effect.provide(Identity))
  )

  it.effect(
    "LS-04 a token of another kind (typ JWT, at+jwt) fails with TokenInvalid(typ); a bad signature with signature",
    () =>
      Effect.gen(function* () {
        yield* atNow
        const root = yield* (yield* TokenService).mintRoot(rootRequest())
        const options = yield* verifyOptions()
        for (const typ of ["JWT", "at+jwt", "application/cordon-task+jwt"]) {
          const token = yield* forge(A, claimsOf(root.token) as never, { typ })
          expectRefusal(yield* Effect.flip(verifyChain([token], options)), "E_TOKEN_INVALID", "typ")
        }
        const [h, p, s] = root.token.split(".")
        const flipped = `${h}.${p}.${s![0] === "A" ? "B" : "A"}${s!.slice(1)}`
        expectRefusal(yield* Effect.flip(verifyChain([flipped], options)), "E_TOKEN_INVALID", "signature")
      }).pipe(Effect.provide(Identity))
  )
})
