/**
 * An intent: the purpose a task is started for, set by the task's creator and carried unchanged in every
 * token of the task (`int`). It bounds what the task may ever do: the agents that may take part, the tools
 * they may call, and the scopes its tokens may hold (the root token gets exactly `scopes`).
 */
export interface Intent {
  readonly name: string
  readonly description: string
  readonly agents: ReadonlyArray<string>
  readonly tools: ReadonlyArray<string>
  readonly scopes: ReadonlyArray<string>
}

const INTENT_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

/** Defines an intent; throws on an invalid name, an empty scope list or a wildcard scope. */
export const make = (spec: Intent): Intent => {
  if (!INTENT_NAME.test(spec.name)) throw new TypeError(`invalid intent name: ${spec.name}`)
  if (spec.scopes.length === 0) throw new TypeError(`intent ${spec.name} must grant at least one scope`)
  if (spec.scopes.some((s) => s.includes("*"))) throw new TypeError(`intent ${spec.name}: wildcard scope`)
  return { ...spec, scopes: [...new Set(spec.scopes)].sort() }
}
