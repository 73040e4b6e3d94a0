/**
 * Caller tokens: the bearer tokens API callers present. Each binds the caller to exactly one tenant and
 * user (`tnt`, `sub`); the API reads the tenant from the verified token only, never from a request.
 * This module is the development issuer: an Ed25519 key kept in `<dataDir>/dev-issuer.jwk` (mode 0600)
 * that mints and verifies caller tokens (`typ: cordon-caller+jwt`, `aud: cordon-api`, EdDSA only).
 * A production deployment swaps the layer for its identity provider's JWKS.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as jose from "jose"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

export const CALLER_TOKEN_TYPE = "cordon-caller+jwt"
export const CALLER_AUDIENCE = "cordon-api"
export const DEV_ISSUER = "https://cordon.local/dev-issuer"

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/
const USER = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/

/** A caller token was missing, malformed, expired, of the wrong type or not issued by the trusted issuer. */
export class CallerTokenInvalid extends Schema.TaggedError<CallerTokenInvalid>()("CallerTokenInvalid", {
  code: Schema.Literal("E_UNAUTHENTICATED"),
  reason: Schema.String
}) {}

/**
 * Roles a caller token may carry in its optional `roles` claim (an array of these strings):
 * `policy-admin` manages the tenant's policy sets, `approver` decides human approvals.
 */
export const CallerRoles = ["policy-admin", "approver"] as const
export type CallerRole = (typeof CallerRoles)[number]

const isRole = (r: unknown): r is CallerRole =>
  typeof r === "string" && (CallerRoles as ReadonlyArray<string>).includes(r)

export interface CallerTokensApi {
  /**
   * Verifies a compact caller token; yields its tenant, user and roles (empty without a `roles` claim).
   * A `roles` claim that is not an array of known roles is refused. Fails with `CallerTokenInvalid`.
   */
  readonly verify: (
    token: string
  ) => Effect.Effect<{ tenant: string; user: string; roles: ReadonlyArray<CallerRole> }, CallerTokenInvalid>
  /**
   * Mints a caller token for `tenant`/`user`, valid `ttlSec` seconds (default 3,600), with `roles` (default
   * none). Development only.
   */
  readonly mint: (
    tenant: string,
    user: string,
    ttlSec?: number,
    roles?: ReadonlyArray<CallerRole>
  ) => Effect.Effect<string, CallerTokenInvalid>
}

export class CallerTokens extends Context.Tag("@cordon/runtime/CallerTokens")<
  CallerTokens,
  CallerTokensApi
>() {}

const loadOrCreateKey = async (dataDir: string) => {
  const file = path.join(dataDir, "dev-issuer.jwk")
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
  let jwk: jose.JWK
  try {
    jwk = JSON.parse(await fs.readFile(file, "utf8")) as jose.JWK
  } catch {
    const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })
    jwk = { ...(await jose.exportJWK(privateKey)), kid: randomBytes(8).toString("hex") }
    await fs.writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: "wx" }).catch(async () => {
      jwk = JSON.parse(await fs.readFile(file, "utf8")) as jose.JWK
    })
  }
  const { d: _d, ...publicJwk } = jwk
  return {
    kid: jwk.kid ?? "dev",
    privateKey: await jose.importJWK(jwk, "EdDSA"),
    publicKey: await jose.importJWK(publicJwk, "EdDSA")
  }
}

/** The development issuer, keyed from `<dataDir>/dev-issuer.jwk` (created on first use). */
export const layerDev = (dataDir: string): Layer.Layer<CallerTokens> =>
  Layer.effect(
    CallerTokens,
    Effect.gen(function* () {
      const key = yield* Effect.promise(() => loadOrCreateKey(dataDir))
      const invalid = (reason: string) => new CallerTokenInvalid({ code: "E_UNAUTHENTICATED", reason })
      return CallerTokens.of({
        verify: (token) =>
          Effect.gen(function* () {
            if (token.length === 0 || token.length > 4096) return yield* invalid("missing or oversized token")
            const { payload } = yield* Effect.tryPromise({
              try: () =>
                jose.jwtVerify(token, key.publicKey, {
                  algorithms: ["EdDSA"],
                  typ: CALLER_TOKEN_TYPE,
                  issuer: DEV_ISSUER,
                  audience: CALLER_AUDIENCE,
                  requiredClaims: ["exp", "sub", "tnt"],
                  clockTolerance: 5
                }),
              catch: () => invalid("token rejected")
            })
            const tenant = payload.tnt
            const user = payload.sub
            if (typeof tenant !== "string" || !TENANT.test(tenant)) return yield* invalid("bad tenant claim")
            if (typeof user !== "string" || !USER.test(user)) return yield* invalid("bad subject claim")
            const claimed = payload.roles ?? []
            if (!Array.isArray(claimed) || !claimed.every(isRole)) return yield* invalid("bad roles claim")
            return { tenant, user, roles: [...new Set(claimed)] }
          }),
        mint: (tenant, user, ttlSec = 3600, roles = []) =>
          Effect.gen(function* () {
            if (!TENANT.test(tenant)) return yield* invalid("invalid tenant id")
            if (!USER.test(user)) return yield* invalid("invalid user id")
            if (!roles.every(isRole)) return yield* invalid("invalid role")
            return yield* Effect.promise(() =>
              new jose.SignJWT(roles.length === 0 ? { tnt: tenant } : { tnt: tenant, roles: [...roles] })
                .setProtectedHeader({ alg: "EdDSA", typ: CALLER_TOKEN_TYPE, kid: key.kid })
                .setIssuer(DEV_ISSUER)
                .setAudience(CALLER_AUDIENCE)
                .setSubject(user)
                .setIssuedAt()
                .setExpirationTime(`${Math.max(60, Math.min(86_400, ttlSec))}s`)
                .setJti(randomBytes(16).toString("base64url"))
                .sign(key.privateKey)
            )
          })
      })
    })
  )
