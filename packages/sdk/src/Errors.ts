import { Schema } from "effect"

/**
 * A tool call or handoff the runtime refused. `code` is the stable deny code chosen by the broker
 * (e.g. `E_TENANT_MISMATCH`, `E_TOOL_NOT_ALLOWED`, `E_HANDOFF_DENIED`); `reason` is a short, token-free
 * explanation safe to show to the agent.
 */
export class Denied extends Schema.TaggedError<Denied>()("Denied", {
  code: Schema.String,
  reason: Schema.String
}) {}

/**
 * A tool handler or an agent program failed for its own reasons (bad upstream data, a bug).
 * `code` is stable per failure kind; `E_TOOL_FAILED` / `E_AGENT_FAILED` by default.
 */
export class ToolFailed extends Schema.TaggedError<ToolFailed>()("ToolFailed", {
  code: Schema.String,
  reason: Schema.String
}) {}

/** Everything an agent program may see fail when it calls a tool or hands off. */
export type CallError = Denied | ToolFailed
