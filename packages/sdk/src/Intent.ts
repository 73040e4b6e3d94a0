/**
 * An intent: the purpose a task is started for, set by the task's creator and carried unchanged in every
 * token of the task (`int`). It bounds what the task may ever do: the agents that may take part, the
 * actions and tools they may use, and the scopes its tokens may hold (the root token gets exactly
 * `scopes`; nothing an agent or a model produces can change the intent or widen them).
 */
import { Schema } from "effect"

/** The actions an intent may allow (the broker's Cedar actions, `Approve` excepted: that is a human's). */
export const IntentActions = [
  "StartTask",
  "Handoff",
  "InvokeTool",
  "AccessRecord",
  "ReadCache",
  "WriteCache",
  "ScheduleJob"
] as const
export type IntentAction = (typeof IntentActions)[number]

/** The actions an intent allows when its declaration does not list them: all of {@link IntentActions}. */
export const DefaultActions: ReadonlyArray<IntentAction> = IntentActions

export interface Intent {
  readonly name: string
  readonly description: string
  readonly agents: ReadonlyArray<string>
  readonly tools: ReadonlyArray<string>
  /** The actions a task under the intent may perform (policy `context.intent.actions`). */
  readonly actions: ReadonlyArray<IntentAction>
  readonly scopes: ReadonlyArray<string>
}

/**
 * An intent declaration was refused: `E_INTENT_INVALID` (bad name, no scope, unknown action) or
 * `E_WILDCARD_SCOPE` (a scope containing `*`: the maximal scopes must be named one by one).
 */
export class IntentDeclarationError extends Schema.TaggedError<IntentDeclarationError>()(
  "IntentDeclarationError",
  { code: Schema.Literal("E_INTENT_INVALID", "E_WILDCARD_SCOPE"), reason: Schema.String }
) {
  override get message(): string {
    return `${this.code}: ${this.reason}`
  }
}

const INTENT_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

/**
 * Defines an intent. `actions` defaults to {@link DefaultActions}; scopes are de-duplicated and sorted.
 * Throws `IntentDeclarationError` (definitions are code) on an invalid name, an empty scope list, an
 * unknown action (`E_INTENT_INVALID`) or a wildcard scope (`E_WILDCARD_SCOPE`).
 */
export const make = (
  spec: Omit<Intent, "actions"> & { readonly actions?: ReadonlyArray<IntentAction> }
): Intent => {
  const invalid = (reason: string) => new IntentDeclarationError({ code: "E_INTENT_INVALID", reason })
  if (!INTENT_NAME.test(spec.name)) throw invalid(`invalid intent name: ${spec.name}`)
  if (spec.scopes.length === 0) throw invalid(`intent ${spec.name} must grant at least one scope`)
  if (spec.scopes.some((s) => s.includes("*"))) {
    throw new IntentDeclarationError({
      code: "E_WILDCARD_SCOPE",
      reason: `intent ${spec.name}: wildcard scope`
    })
  }
  const actions = spec.actions ?? DefaultActions
  const unknown = actions.filter((a) => !(IntentActions as ReadonlyArray<string>).includes(a))
  if (unknown.length > 0) throw invalid(`intent ${spec.name}: unknown action ${unknown.join(", ")}`)
  return { ...spec, actions: [...new Set(actions)], scopes: [...new Set(spec.scopes)].sort() }
}
