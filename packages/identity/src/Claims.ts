/**
 * The task-token claim profile (`typ: cordon-task+jwt`, EdDSA), defined once for the broker and
 * the tenant workers. See RFC 7519 (JWT), RFC 8693 §4.1 (`act`), RFC 8725 (BCP).
 *
 * @module
 */
import { createHash } from "node:crypto"
import { Either, Schema } from "effect"
import { isValidTenantId, parseSpiffeId } from "./SpiffeId.js"

/** JWT `typ` header of task tokens. */
export const TOKEN_TYPE = "cordon-task+jwt"
/** The only signature algorithm task tokens use (Ed25519, RFC 8037). */
export const TOKEN_ALG = "EdDSA"
/** Default base of per-tenant issuers. */
export const DEFAULT_ISSUER_BASE = "https://cordon.local"

/**
 * The issuer of a tenant's task tokens: `<base>/tenant/<tenant>`,
 * e.g. `https://cordon.local/tenant/acme`.
 */
export const tenantIssuer = (tenant: string, base: string = DEFAULT_ISSUER_BASE): string =>
  `${base.replace(/\/+$/, "")}/tenant/${tenant}`

/**
 * Base64url (no padding) SHA-256 of a compact JWS, as used by the `prev` claim and as a
 * token handle in logs and caches (never log the token itself).
 *
 * @param compact the ASCII compact serialization `header.payload.signature`
 * @returns 43 base64url characters
 */
export const tokenHash = (compact: string): string =>
  createHash("sha256").update(compact, "utf8").digest("base64url")

const pattern = (re: RegExp, name: string) =>
  Schema.String.pipe(Schema.pattern(re), Schema.annotations({ title: name }))

/** A SPIFFE ID URI with Cordon's agent shape (see `parseSpiffeId`). */
export const AgentUri = Schema.String.pipe(
  Schema.filter((s) => Either.isRight(parseSpiffeId(s))),
  Schema.annotations({ title: "AgentUri" })
)
/** Tenant id: `^[a-z0-9][a-z0-9-]{0,62}$`. */
export const TenantId = Schema.String.pipe(
  Schema.filter(isValidTenantId),
  Schema.annotations({ title: "TenantId" })
)
/** Session id: same rule as a tenant id. */
export const SessionId = Schema.String.pipe(
  Schema.filter(isValidTenantId),
  Schema.annotations({ title: "SessionId" })
)
/** Human user id: 1–256 printable ASCII characters, no spaces. */
export const UserId = pattern(/^[\x21-\x7e]{1,256}$/, "UserId")
/** Root task id: 1–128 characters of `[A-Za-z0-9._:-]`, starting with a letter or digit. */
export const TaskId = pattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "TaskId")
/** Intent name: 1–128 characters of `[A-Za-z0-9._:-]`, starting with a letter or digit. */
export const IntentName = pattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "IntentName")
/** A scope: 1–256 printable ASCII characters, no spaces and never `*` (no wildcards). */
export const Scope = pattern(/^[\x21-\x29\x2b-\x7e]{1,256}$/, "Scope")
/** `jti`: 128 random bits, base64url (22 characters). */
export const TokenId = pattern(/^[A-Za-z0-9_-]{22}$/, "TokenId")
/** Base64url SHA-256 (43 characters), see {@link tokenHash}. */
export const TokenHash = pattern(/^[A-Za-z0-9_-]{43}$/, "TokenHash")
/** Seconds since the Unix epoch. */
export const EpochSeconds = Schema.Int.pipe(
  Schema.nonNegative(),
  Schema.annotations({ title: "EpochSeconds" })
)

/** Whether `xs` is strictly ascending (sorted and without duplicates). */
export const isSortedUnique = (xs: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < xs.length; i++) {
    if ((xs[i - 1] as string) >= (xs[i] as string)) return false
  }
  return true
}

/** Canonical scope set: sorted by code unit and de-duplicated. */
export const normalizeScopes = (scopes: ReadonlyArray<string>): ReadonlyArray<string> =>
  Array.from(new Set(scopes)).sort()

/** Scope set: non-empty, sorted, unique. */
export const Scopes = Schema.NonEmptyArray(Scope).pipe(
  Schema.filter(isSortedUnique, { message: () => "scopes must be sorted and unique" }),
  Schema.annotations({ title: "Scopes" })
)

/** RFC 8693 §4.1 actor: the previous holder, with its own previous holders nested in `act`. */
export interface Actor {
  readonly sub: string
  readonly act?: Actor
}
/** Schema of {@link Actor} (recursive). */
export const Actor: Schema.Schema<Actor> = Schema.Struct({
  sub: AgentUri,
  act: Schema.optionalWith(
    Schema.suspend((): Schema.Schema<Actor> => Actor),
    { exact: true }
  )
})

/**
 * Claims of a task token. Times are integer seconds since the epoch. `aud === sub` (the token is
 * issued to the agent that holds it); `act` nests the earlier holders; `prev` is the
 * {@link tokenHash} of the parent token; root tokens have `dep` 0 and neither `prev` nor `act`.
 */
export const TaskClaims = Schema.Struct({
  iss: Schema.NonEmptyString,
  sub: AgentUri,
  aud: AgentUri,
  tnt: TenantId,
  sid: SessionId,
  usr: UserId,
  txn: TaskId,
  int: IntentName,
  scp: Scopes,
  iat: EpochSeconds,
  nbf: EpochSeconds,
  exp: EpochSeconds,
  jti: TokenId,
  dep: Schema.Int.pipe(Schema.nonNegative()),
  prev: Schema.optionalWith(TokenHash, { exact: true }),
  act: Schema.optionalWith(Actor, { exact: true })
})
export type TaskClaims = typeof TaskClaims.Type

/**
 * Strict decoder for an untrusted payload: unknown claims are an error (exact profile).
 * Returns `Left(ParseError)` on any deviation.
 */
export const decodeTaskClaims = Schema.decodeUnknownEither(TaskClaims, {
  onExcessProperty: "error",
  errors: "first"
})

/** Protected header of a task token; no other header parameter is accepted. */
export interface TaskTokenHeader {
  readonly alg: typeof TOKEN_ALG
  readonly typ: typeof TOKEN_TYPE
  readonly kid: string
}

/** Structural equality of two actor chains (both may be absent). */
export const actorEquals = (a: Actor | undefined, b: Actor | undefined): boolean => {
  let x = a
  let y = b
  while (x !== undefined && y !== undefined) {
    if (x.sub !== y.sub) return false
    x = x.act
    y = y.act
  }
  return x === undefined && y === undefined
}
