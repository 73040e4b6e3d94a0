import type { Effect, Schema } from "effect"
import type { ToolFailed } from "./Errors.js"
import type { RecordRef, ToolContext } from "./ToolContext.js"

/**
 * A tool: a named capability with typed input and output that agents call through the runtime's gate
 * (verify chain → required scopes → policy decision → audit) — never directly.
 *
 * - `scopes`: every scope the caller's token must hold (`scp ⊇ scopes`).
 * - `records`: the tenant-owned records a call touches, read from its decoded input; each one is authorised
 *   (`AccessRecord`) against the caller's tenant before the handler runs.
 */
export interface Tool<I = unknown, O = unknown> {
  readonly name: string
  readonly description: string
  readonly input: Schema.Schema<I, unknown>
  readonly output: Schema.Schema<O, unknown>
  readonly scopes: ReadonlyArray<string>
  readonly records: (input: I) => ReadonlyArray<RecordRef>
  readonly handler: (input: I, context: ToolContext) => Effect.Effect<O, ToolFailed>
}

/** Any tool, whatever its types (for registries). */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds tools of every input/output type
export type AnyTool = Tool<any, any>

const TOOL_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

/**
 * Defines a tool. `name` is dotted lower-case (`outbox.draft`); `input`/`output` are `effect/Schema`s
 * whose encoded side is JSON; throws at definition time on an invalid name or an empty scope list
 * (definitions are code, so this is a programming error).
 */
export const make = <I, IE, O, OE>(spec: {
  readonly name: string
  readonly description: string
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
  readonly scopes: ReadonlyArray<string>
  readonly records?: (input: I) => ReadonlyArray<RecordRef>
  readonly handler: (input: I, context: ToolContext) => Effect.Effect<O, ToolFailed>
}): Tool<I, O> => {
  if (!TOOL_NAME.test(spec.name)) throw new TypeError(`invalid tool name: ${spec.name}`)
  if (spec.scopes.length === 0) throw new TypeError(`tool ${spec.name} must require at least one scope`)
  return {
    name: spec.name,
    description: spec.description,
    input: spec.input as Schema.Schema<I, unknown>,
    output: spec.output as Schema.Schema<O, unknown>,
    scopes: [...spec.scopes].sort(),
    records: spec.records ?? (() => []),
    handler: spec.handler
  }
}
