import type { Effect, Schema } from "effect"
import type { ToolFailed } from "./Errors.js"
import type { OwnedRecord, RecordRef, ToolContext } from "./ToolContext.js"

/**
 * Constraints on a tool's arguments, checked by the runtime's gate before policy is asked (and the path
 * jail again in the worker right before the handler). A field is a dotted path into the ENCODED input
 * (`"target.url"`); arrays on the way are walked, so every element is checked. A field that is absent is
 * not checked; a field of the wrong type is refused. Every refusal is `E_TOOL_NOT_ALLOWED` with reason
 * `argument`, audited. Threat TM-01.
 */
export interface ArgumentConstraints {
  /**
   * Fields holding file paths relative to the session directory (`ToolContext.sessionDir`): absolute
   * paths, `..` segments, backslashes, NUL and paths whose real path (symlinks resolved) leaves the
   * session directory are refused.
   */
  readonly paths?: ReadonlyArray<string>
  /**
   * Fields holding `http:`/`https:` URLs and the hosts they may name: exact host names, or
   * `*.example.com` for any subdomain of `example.com`. Credentials in the URL are refused, and so are
   * loopback, private, link-local and other internal addresses and names (`localhost`, `*.internal`),
   * whatever the allow-list says.
   */
  readonly urls?: { readonly fields: ReadonlyArray<string>; readonly hosts: ReadonlyArray<string> }
  /** Allow-list of values per field (strict equality). */
  readonly values?: Readonly<Record<string, ReadonlyArray<string | number | boolean>>>
  /** Largest canonical JSON of the arguments, in UTF-8 bytes; default {@link DEFAULT_MAX_ARGUMENT_BYTES}. */
  readonly maxBytes?: number
}

/**
 * How much harm one call can do. `"high"`: an irreversible or outward-facing effect (sending mail,
 * paying, deleting, publishing). A call to a high-risk tool whose arguments carry fragments of
 * untrusted retrieved content is denied (`E_POLICY_DENY`, rule `tainted_source`; threat MC-03).
 */
export type ToolRisk = "low" | "high"

/** Default cap on the canonical JSON of a call's arguments, in bytes (64 KiB). */
export const DEFAULT_MAX_ARGUMENT_BYTES = 65_536

/**
 * A tool: a named capability with typed input and output that agents call through the runtime's gate
 * (verify chain → identity fields → argument constraints → required scopes → policy decision → audit →
 * per-call token) — never directly.
 *
 * - `audience`: `tool:<name>`, the `aud` of the per-call token the handler runs under.
 * - `scopes`: every scope the caller's token must hold (`scp ⊇ scopes`); the per-call token holds exactly these.
 * - `records`: the tenant-owned records a call touches, read from its decoded input; each one is authorised
 *   (`AccessRecord`) against the caller's tenant before the handler runs.
 * - `resultRecords`: the tenant-owned records a result contains; each one is re-checked against the
 *   caller's token tenant after the handler ran and before the agent sees the result — one foreign record
 *   withholds the whole result (`E_TENANT_MISMATCH`, threat IP-01).
 * - `identityFields`: argument keys that legitimately carry identity (`user`, ...). Any other key naming
 *   an identity (tenant, user, role, session, ...) is refused with `E_IDENTITY_ASSERTION` (threat IP-02).
 * - `constraints`: see {@link ArgumentConstraints}.
 * - `risk`: see {@link ToolRisk}; `"low"` unless declared.
 */
export interface Tool<I = unknown, O = unknown> {
  readonly name: string
  readonly description: string
  readonly audience: string
  readonly input: Schema.Schema<I, unknown>
  readonly output: Schema.Schema<O, unknown>
  readonly scopes: ReadonlyArray<string>
  readonly records: (input: I) => ReadonlyArray<RecordRef>
  readonly resultRecords: ((output: O) => ReadonlyArray<OwnedRecord>) | undefined
  readonly identityFields: ReadonlyArray<string>
  readonly constraints: ArgumentConstraints
  readonly risk: ToolRisk
  readonly handler: (input: I, context: ToolContext) => Effect.Effect<O, ToolFailed>
}

/** Any tool, whatever its types (for registries). */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds tools of every input/output type
export type AnyTool = Tool<any, any>

const TOOL_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

/**
 * Defines a tool. `name` is dotted lower-case (`outbox.draft`); `input`/`output` are `effect/Schema`s
 * whose encoded side is JSON; throws at definition time on an invalid name, an empty scope list, a
 * wildcard scope (`*`, `x:*`), an invalid `maxBytes` or a `risk` other than `"low"`/`"high"` (definitions are code, so this is a programming error).
 */
export const make = <I, IE, O, OE>(spec: {
  readonly name: string
  readonly description: string
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
  readonly scopes: ReadonlyArray<string>
  readonly records?: (input: I) => ReadonlyArray<RecordRef>
  readonly resultRecords?: ((output: O) => ReadonlyArray<OwnedRecord>) | undefined
  readonly identityFields?: ReadonlyArray<string>
  readonly constraints?: ArgumentConstraints
  readonly risk?: ToolRisk
  readonly handler: (input: I, context: ToolContext) => Effect.Effect<O, ToolFailed>
}): Tool<I, O> => {
  if (!TOOL_NAME.test(spec.name)) throw new TypeError(`invalid tool name: ${spec.name}`)
  if (spec.scopes.length === 0) throw new TypeError(`tool ${spec.name} must require at least one scope`)
  if (spec.scopes.some((s) => s.includes("*"))) throw new TypeError(`tool ${spec.name}: wildcard scope`)
  const maxBytes = spec.constraints?.maxBytes
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
    throw new TypeError(`tool ${spec.name}: maxBytes must be a positive integer`)
  }
  const risk = spec.risk ?? "low"
  if (risk !== "low" && risk !== "high") throw new TypeError(`tool ${spec.name}: risk must be low or high`)
  return {
    name: spec.name,
    description: spec.description,
    audience: `tool:${spec.name}`,
    input: spec.input as Schema.Schema<I, unknown>,
    output: spec.output as Schema.Schema<O, unknown>,
    scopes: [...new Set(spec.scopes)].sort(),
    records: spec.records ?? (() => []),
    resultRecords: spec.resultRecords,
    identityFields: spec.identityFields ?? [],
    constraints: spec.constraints ?? {},
    risk,
    handler: spec.handler
  }
}
