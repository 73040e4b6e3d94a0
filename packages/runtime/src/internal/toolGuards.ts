/**
 * The tool gate's own rules around the policy decision, shared by the broker and the tenant worker:
 *
 * - broker, before Cedar: identity-bearing argument keys (IP-02), no input schema / schema mismatch /
 *   size cap / declared constraints (TM-01), delegated-scope shortfall (DS-04); then the per-call token
 *   (TM-07, RP-03) minted by token exchange for exactly the tool's scopes and bound to the arguments;
 * - worker, before the handler: the per-call token (audience, request binding, caller, single use) and the
 *   path jail again (symlinks may have changed); after it: the result's records against the token's tenant
 *   (IP-01).
 *
 * Arguments are compared in one canonical form, `canonicalJson(encode(decode(args)))`, on both sides.
 */
import { type CallClaims, verifyCallToken } from "@cordon/identity/CallToken"
import { canonicalJson, requestBinding } from "@cordon/identity/CanonicalJson"
import { isValidTenantId } from "@cordon/identity/SpiffeId"
import type { VerifiedChain } from "@cordon/identity/Verifier"
import { type AnyTool, DEFAULT_MAX_ARGUMENT_BYTES } from "@cordon/sdk/Tool"
import type { OwnedRecord } from "@cordon/sdk/ToolContext"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import { createHash } from "node:crypto"
import * as path from "node:path"
import { IdentityAssertionError, ToolNotAllowedError } from "../ToolGateErrors.js"
import type { WorkerStateApi } from "../WorkerState.js"
import { constraintError, pathJailError, valuesAt } from "./argumentConstraints.js"

/** A session's file directory, the root of path-jailed arguments: `<tenantDir>/files/<session>`. */
export const sessionDirOf = (tenantDir: string, session: string): string =>
  path.join(tenantDir, "files", session)

const normalizeKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, "")

/** Keys (normalised: lower case, letters and digits only) that name an identity or a token claim. */
const IDENTITY_KEYS = new Set([
  ...["tenant", "tenantid", "tenantname", "tnt", "org", "orgid", "organization", "organizationid"],
  ...[
    "user",
    "userid",
    "username",
    "usr",
    "uid",
    "role",
    "roles",
    "rolename",
    "isadmin",
    "admin",
    "superuser"
  ],
  ...["session", "sessionid", "sid", "sub", "principal", "principalid", "actor", "actorid", "act"],
  ...["impersonate", "onbehalfof", "runas", "spiffeid", "workload", "workloadid"],
  ...["iss", "aud", "jti", "scp", "intent", "identity"]
])
/** Words that make any key identity-bearing wherever they appear in it (`targetTenant`, `assume_role`). */
const IDENTITY_WORDS = new Set(["tenant", "tenants", "role", "roles", "session", "principal", "impersonate"])

const wordsOf = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)

/** Whether an argument key names an identity (case- and separator-insensitive). */
export const isIdentityKey = (key: string): boolean =>
  IDENTITY_KEYS.has(normalizeKey(key)) || wordsOf(key).some((w) => IDENTITY_WORDS.has(w))

const safeKey = (key: string) => (/^[A-Za-z0-9_-]{1,32}$/.test(key) ? key : "?")

/** `sha256:<12 hex>` of a value: lets an auditor match a claimed value without storing it. */
export const valueHash = (value: unknown): string => {
  let text: string
  try {
    text = canonicalJson(value)
  } catch {
    text = String(value)
  }
  return `sha256:${createHash("sha256").update(text, "utf8").digest("hex").slice(0, 12)}`
}

/**
 * The first identity-bearing key in `args` (any depth, arrays walked) that the tool did not declare in
 * `identityFields`, as an `IdentityAssertionError`; `undefined` when there is none.
 */
export const identityAssertion = (
  args: unknown,
  declared: ReadonlyArray<string>,
  tokenTenant: string
): IdentityAssertionError | undefined => {
  const allowed = new Set(declared.map(normalizeKey))
  const visit = (value: unknown, at: string): IdentityAssertionError | undefined => {
    if (typeof value !== "object" || value === null) return undefined
    for (const [key, item] of Array.isArray(value)
      ? value.map((v) => ["", v] as const)
      : Object.entries(value)) {
      const field = key === "" ? `${at}[]` : `${at}.${safeKey(key)}`
      if (key !== "" && isIdentityKey(key) && !allowed.has(normalizeKey(key))) {
        return new IdentityAssertionError({
          field,
          detail: `identity field ${field} in the arguments (claimed value ${valueHash(item)}); identity comes from the token (tenant ${tokenTenant})`
        })
      }
      const found = visit(item, field)
      if (found !== undefined) return found
    }
    return undefined
  }
  return visit(args, "args")
}

const UNCONSTRAINED = new Set(["UnknownKeyword", "AnyKeyword", "ObjectKeyword"])

/** Whether the tool's encoded input is constrained at all (not `Unknown`, `Any`, `object` or an open record). */
export const hasInputSchema = (tool: AnyTool): boolean => {
  const ast = SchemaAST.encodedAST(tool.input.ast)
  if (UNCONSTRAINED.has(ast._tag)) return false
  if (ast._tag === "TypeLiteral") return !ast.indexSignatures.some((s) => UNCONSTRAINED.has(s.type._tag))
  return true
}

/** `encode(decode(raw))` with the tool's input schema, as a JSON value and its canonical text. */
export const canonicalArgs = (tool: AnyTool, raw: unknown): { value: unknown; text: string } | undefined => {
  const decoded = Schema.decodeUnknownEither(tool.input)(raw)
  if (Either.isLeft(decoded)) return undefined
  const encoded = Schema.encodeEither(tool.input)(decoded.right)
  if (Either.isLeft(encoded)) return undefined
  try {
    const text = canonicalJson(encoded.right)
    return { value: JSON.parse(text), text }
  } catch {
    return undefined
  }
}

/** A call that passed the argument checks: its canonical arguments and their request binding. */
export interface ScreenedCall {
  readonly args: unknown
  readonly binding: string
}

/**
 * The broker's argument checks, before any policy is asked, in order: size cap on the arguments as sent
 * (`rawArgs`, canonical JSON text from the worker), JSON, identity-bearing keys, an input schema declared,
 * the schema, size cap again on the canonical form, the declared constraints (path jail under
 * `sessionDir`). Succeeds with the canonical arguments and their binding (`requestBinding`).
 */
export const screenCall = (
  tool: AnyTool,
  rawArgs: string,
  tokenTenant: string,
  sessionDir: string
): Either.Either<ScreenedCall, IdentityAssertionError | ToolNotAllowedError> => {
  const refuse = (detail: string) => Either.left(new ToolNotAllowedError({ detail }))
  const cap = tool.constraints.maxBytes ?? DEFAULT_MAX_ARGUMENT_BYTES
  if (Buffer.byteLength(rawArgs, "utf8") > cap) return refuse(`arguments over ${cap} bytes`)
  let raw: unknown
  try {
    raw = JSON.parse(rawArgs)
    canonicalJson(raw) // bounds the nesting depth before any recursive walk
  } catch {
    return refuse("arguments are not JSON or nested too deep")
  }
  const asserted = identityAssertion(raw, tool.identityFields, tokenTenant)
  if (asserted !== undefined) return Either.left(asserted)
  if (!hasInputSchema(tool)) return refuse(`${tool.name} declares no input schema`)
  const canonical = canonicalArgs(tool, raw)
  if (canonical === undefined) return refuse("arguments do not match the input schema")
  if (Buffer.byteLength(canonical.text, "utf8") > cap) return refuse(`arguments over ${cap} bytes`)
  const broken = constraintError(tool.constraints, canonical.value, sessionDir)
  if (broken !== undefined) return refuse(broken)
  return Either.right({ args: canonical.value, binding: requestBinding(tool.name, canonical.text) })
}

const agentName = (spiffeId: string) => spiffeId.slice(spiffeId.lastIndexOf("/") + 1)

/**
 * DS-04: the tool scopes the caller lacks. Its effective scopes are its token's `scp` ∩ the standing
 * scopes (from the server-side registry, `standingOf(agent name)`) of EVERY actor of the chain, root
 * included: a deputy never acts with more than each agent upstream of it may hold. When the caller's own
 * standing scopes would cover what is missing, the shortfall comes from delegation: `E_SCOPE_ESCALATION`,
 * naming the actors; otherwise the agent may never hold them: `E_TOOL_NOT_ALLOWED`.
 */
export const scopeShortfall = (
  tool: AnyTool,
  leafScopes: ReadonlyArray<string>,
  actors: ReadonlyArray<string>,
  standingOf: (agent: string) => ReadonlyArray<string>
): { readonly code: string; readonly rule: string; readonly detail: string } | undefined => {
  const standing = actors.map((a) => standingOf(agentName(a)))
  const held = leafScopes.filter((s) => standing.every((own) => own.includes(s)))
  const missing = tool.scopes.filter((s) => !held.includes(s))
  if (missing.length === 0) return undefined
  const own = standing[standing.length - 1] ?? []
  if (missing.every((s) => own.includes(s))) {
    const chain = actors.map(agentName).join(" → ")
    return {
      code: "E_SCOPE_ESCALATION",
      rule: "broker.delegated-scope",
      detail: `scopes ${missing.join(",")} of ${tool.name} were not delegated along ${chain}`
    }
  }
  return {
    code: "E_TOOL_NOT_ALLOWED",
    rule: "broker.tool-scope",
    detail: `token lacks scopes ${missing.join(",")} of ${tool.name}`
  }
}

/** A gate deny in the shape of a policy decision: `detail` becomes the audit record's reason. */
export const gateVerdict = (code: string, rule: string, detail: string, policyVersion: string) => ({
  decision: "deny" as const,
  code,
  determiningPolicies: [rule],
  policyVersion,
  errors: [detail]
})

/**
 * The Cedar request context of an `InvokeTool` decision with the call's canonical (encoded, screened)
 * arguments as `args` (`PolicyContext.args`), so that policies can constrain arguments.
 */
export const policyContextWithArgs = <C extends object>(context: C, args: unknown): C => ({
  ...context,
  args
})

/** Call-token ids this worker has run a handler under, with their `exp` (single use). */
const consumed = new Map<string, number>()

const consumeOnce = (jti: string, exp: number): boolean => {
  if (consumed.has(jti)) return false
  if (consumed.size >= 10_000) {
    const now = Math.floor(Date.now() / 1000)
    for (const [k, e] of consumed) if (e < now - 60) consumed.delete(k)
  }
  consumed.set(jti, exp)
  return true
}

/**
 * The worker's check of the call token right before the handler: `verifyCallToken` with the worker's own
 * keys and revocation view against this tool's audience, the binding of the arguments about to run and
 * the caller's verified token; then exactly the tool's scopes and single use. A stable code and reason on
 * refusal (`E_AUDIENCE_MISMATCH`, `E_TOKEN_INVALID`/`request_binding`, `E_TOKEN_REPLAY`, ...).
 */
export const admitCall = (
  state: WorkerStateApi,
  tool: AnyTool,
  binding: string,
  caller: VerifiedChain,
  callToken: string
): Either.Either<CallClaims, { readonly code: string; readonly reason: string }> => {
  const verified = verifyCallToken(callToken, {
    tenant: state.tenant,
    issuer: state.issuer,
    jwks: state.keys.jwks,
    audience: tool.audience,
    binding,
    parent: { claims: caller.leaf, hash: caller.leafHash },
    isRevoked: (jti) => state.revoked.has(jti),
    now: new Date(),
    clockToleranceSec: state.clockToleranceSec
  })
  if (Either.isLeft(verified)) return Either.left({ code: verified.left.code, reason: verified.left.reason })
  const claims = verified.right
  if (claims.scp.length !== tool.scopes.length || !claims.scp.every((s) => tool.scopes.includes(s))) {
    return Either.left({ code: "E_TOOL_NOT_ALLOWED", reason: "call token scopes are not the tool's" })
  }
  if (!consumeOnce(claims.jti, claims.exp)) return Either.left({ code: "E_TOKEN_REPLAY", reason: "seen" })
  return Either.right(claims)
}

/** The worker's path-jail re-check right before the handler (symlinks may have changed since the broker's). */
export const jailError = (tool: AnyTool, args: unknown, sessionDir: string): string | undefined => {
  for (const field of tool.constraints.paths ?? []) {
    for (const v of valuesAt(args, field)) {
      const refused = pathJailError(sessionDir, v)
      if (refused !== undefined) return `${field}: ${refused}`
    }
  }
  return undefined
}

/**
 * IP-01: the first record of `output` (by the tool's `resultRecords`) owned by another tenant than the
 * token's, or `undefined`. An extractor that throws withholds the result too (fail closed).
 */
export const foreignRecord = (
  tool: AnyTool,
  output: unknown,
  tokenTenant: string
): OwnedRecord | undefined => {
  if (tool.resultRecords === undefined) return undefined
  let records: ReadonlyArray<OwnedRecord>
  try {
    records = tool.resultRecords(output)
  } catch {
    return { type: "Record", tenant: "unknown", id: "unreadable" }
  }
  return records.find((r) => r.tenant !== tokenTenant)
}

/** A record reference safe for the audit log: identifiers kept when well-formed, else hashed. */
export const auditableRecord = (r: {
  readonly type: string
  readonly tenant: string
  readonly id: string
}) => ({
  type: /^[A-Za-z][A-Za-z0-9]{0,31}$/.test(r.type) ? r.type : "Record",
  tenant: isValidTenantId(r.tenant) ? r.tenant : valueHash(r.tenant),
  id: /^[A-Za-z0-9._:-]{1,64}$/.test(r.id) ? r.id : valueHash(r.id)
})
