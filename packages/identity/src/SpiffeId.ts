/**
 * Workload identities: SPIFFE IDs of the form `spiffe://<trust-domain>/tenant/<tenant>/agent/<agent>`.
 *
 * Parsing follows the SPIFFE ID specification (SPIFFE-ID.md §2): scheme `spiffe://`, a lower-case
 * trust domain, path segments of `[A-Za-z0-9._-]` without empty, `.` or `..` segments, no query,
 * fragment, port or userinfo, at most 2048 bytes. Cordon additionally requires the exact path
 * `/tenant/<tenant>/agent/<agent>`; tenant and agent are read only from that path.
 *
 * @module
 */
import { Data, Effect, Either, Schema } from "effect"

/** Why a SPIFFE ID or identifier was refused. */
export const InvalidSpiffeIdReason = Schema.Literal(
  "length",
  "scheme",
  "trust_domain",
  "path",
  "shape",
  "tenant",
  "agent"
)
export type InvalidSpiffeIdReason = typeof InvalidSpiffeIdReason.Type

/**
 * A SPIFFE ID (or one of its parts) is malformed or does not have Cordon's shape.
 * `code` is always `E_INVALID_IDENTIFIER`; the offending value is never included.
 */
export class InvalidSpiffeId extends Schema.TaggedError<InvalidSpiffeId>()("InvalidSpiffeId", {
  code: Schema.Literal("E_INVALID_IDENTIFIER").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_INVALID_IDENTIFIER" as const)
  ),
  reason: InvalidSpiffeIdReason
}) {}

/** A parsed Cordon agent identity. `uri` is the canonical `spiffe://…` form. */
export class SpiffeId extends Data.Class<{
  readonly trustDomain: string
  readonly tenant: string
  readonly agent: string
  readonly uri: string
}> {}

/** Maximum SPIFFE ID length in bytes (SPIFFE-ID.md §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048
/** Maximum trust domain length in characters (SPIFFE-ID.md §2.1, DNS name limit). */
export const MAX_TRUST_DOMAIN_LENGTH = 255

const SCHEME = "spiffe://"
const TRUST_DOMAIN = /^[a-z0-9._-]+$/
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/
const AGENT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/
const encoder = new TextEncoder()

/**
 * Whether `s` is a valid tenant id. The same rule applies to session ids:
 * `^[a-z0-9][a-z0-9-]{0,62}$` (1–63 characters, lower-case letters, digits, `-`).
 */
export const isValidTenantId = (s: string): boolean => typeof s === "string" && TENANT_ID.test(s)

/**
 * Whether `s` is a valid agent name: `^[a-z0-9][a-z0-9._-]{0,62}$` (1–63 characters; like a tenant
 * id but also allowing `.` and `_`). Always a valid SPIFFE path segment (never `.` or `..`).
 */
export const isValidName = (s: string): boolean => typeof s === "string" && AGENT_NAME.test(s)

/** Whether `s` is a valid SPIFFE trust domain: non-empty, `[a-z0-9._-]`, at most 255 characters. */
export const isValidTrustDomain = (s: string): boolean =>
  typeof s === "string" && s.length <= MAX_TRUST_DOMAIN_LENGTH && TRUST_DOMAIN.test(s)

const fail = (reason: InvalidSpiffeIdReason) => Either.left(new InvalidSpiffeId({ reason }))

/**
 * Parses and validates a Cordon agent SPIFFE ID, synchronously.
 *
 * @param uri e.g. `spiffe://cordon.local/tenant/acme/agent/triage`
 * @returns `Right(SpiffeId)`, or `Left(InvalidSpiffeId)` with reason `length` (> 2048 bytes),
 *   `scheme`, `trust_domain`, `path` (empty / `.` / `..` segment, bad character, query, fragment),
 *   `shape` (not `/tenant/<t>/agent/<a>`), `tenant` or `agent` (id rules above).
 * @see https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md
 */
export const parseSpiffeId = (uri: string): Either.Either<SpiffeId, InvalidSpiffeId> => {
  if (typeof uri !== "string" || uri.length === 0) return fail("scheme")
  if (uri.length > MAX_SPIFFE_ID_BYTES || encoder.encode(uri).length > MAX_SPIFFE_ID_BYTES) {
    return fail("length")
  }
  if (!uri.startsWith(SCHEME)) return fail("scheme")
  const rest = uri.slice(SCHEME.length)
  const slash = rest.indexOf("/")
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash)
  // userinfo (`@`), port (`:`), query (`?`) and fragment (`#`) fall outside the character sets.
  if (!isValidTrustDomain(trustDomain)) return fail("trust_domain")
  if (slash === -1) return fail("shape")
  const segments = rest.slice(slash + 1).split("/")
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === ".." || !PATH_SEGMENT.test(segment)) {
      return fail("path")
    }
  }
  const [k1, tenant, k2, agent] = segments
  if (
    segments.length !== 4 ||
    k1 !== "tenant" ||
    k2 !== "agent" ||
    tenant === undefined ||
    agent === undefined
  ) {
    return fail("shape")
  }
  if (!isValidTenantId(tenant)) return fail("tenant")
  if (!isValidName(agent)) return fail("agent")
  return Either.right(new SpiffeId({ trustDomain, tenant, agent, uri }))
}

/**
 * Builds the SPIFFE ID `spiffe://<trustDomain>/tenant/<tenant>/agent/<agent>`, synchronously.
 * Same failures as {@link parseSpiffeId}.
 */
export const makeAgentSpiffeId = (
  trustDomain: string,
  tenant: string,
  agent: string
): Either.Either<SpiffeId, InvalidSpiffeId> => {
  if (!isValidTrustDomain(trustDomain)) return fail("trust_domain")
  if (!isValidTenantId(tenant)) return fail("tenant")
  if (!isValidName(agent)) return fail("agent")
  return parseSpiffeId(`${SCHEME}${trustDomain}/tenant/${tenant}/agent/${agent}`)
}

/**
 * Builds the SPIFFE ID of `agent` in `tenant` under `trustDomain`.
 *
 * @returns the parsed {@link SpiffeId}; fails with {@link InvalidSpiffeId} (`E_INVALID_IDENTIFIER`)
 *   when any part breaks the rules of {@link parseSpiffeId}.
 */
export const agentSpiffeId = (
  trustDomain: string,
  tenant: string,
  agent: string
): Effect.Effect<SpiffeId, InvalidSpiffeId> =>
  Either.match(makeAgentSpiffeId(trustDomain, tenant, agent), {
    onLeft: Effect.fail,
    onRight: Effect.succeed
  })
