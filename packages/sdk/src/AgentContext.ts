import { Context, Effect } from "effect"
import type { Agent } from "./Agent.js"
import type { CallError } from "./Errors.js"
import type { Tool } from "./Tool.js"

/**
 * The runtime, as an agent program sees it. Provided by the tenant worker for each agent run; every
 * method goes through the broker, which verifies the token chain, checks scopes and policy, and audits.
 */
export interface AgentContextApi {
  /** The run's identity, read from the verified token chain. */
  readonly tenant: string
  readonly session: string
  readonly txn: string
  readonly agent: string
  readonly intent: string
  readonly depth: number
  /**
   * Calls `tool` with `input`; fails with `Denied` (stable code) or `ToolFailed`. A call a policy marks as
   * needing a human approval fails with `Denied` code `E_APPROVAL_REQUIRED` and reason
   * `approval required: <id>`; once a human approved it, the same call with `options.approval = <id>`
   * runs (once: the approval is bound to this exact tool, arguments, session and task).
   */
  readonly callTool: (
    toolName: string,
    input: unknown,
    options?: { readonly approval?: string }
  ) => Effect.Effect<unknown, CallError>
  /**
   * Hands `input` to agent `agentName` under the same intent (RFC 8693 token exchange in the broker:
   * the new token's scopes = this token's ∩ the target's allowed scopes; expiry never extended) and
   * waits for its output. Fails with `Denied` (`E_HANDOFF_DENIED`, `E_SCOPE_ESCALATION`, ...).
   */
  readonly handoff: (agentName: string, input: unknown) => Effect.Effect<unknown, CallError>
  /**
   * Schedules follow-up work inside this session: agent `agentName` runs with `input` as a new task
   * (same intent) `delayMs` milliseconds from now (integer ≥ 0). The job holds no credential (its task is
   * minted a fresh token when it runs), never runs after the session ends, and cannot be rescheduled
   * past the deadline fixed when the first job of its line was created. Fails with `Denied`
   * (`E_JOB_DEADLINE_EXCEEDED`, `E_SECRET_IN_PAYLOAD`, `E_QUOTA_EXCEEDED`, `E_HANDOFF_DENIED`, ...).
   */
  readonly schedule: (
    agentName: string,
    input: unknown,
    options: { readonly delayMs: number }
  ) => Effect.Effect<{ readonly job: string }, CallError>
  /** Records a note in the delegation trace (text is stored escaped; never put secrets here). */
  readonly note: (message: string) => Effect.Effect<void>
}

export class AgentContext extends Context.Tag("@cordon/sdk/AgentContext")<AgentContext, AgentContextApi>() {}

/** Typed tool call: encodes `input` with the tool's schema and decodes the output with it. */
export const call = <I, O>(tool: Tool<I, O>, input: I): Effect.Effect<O, CallError, AgentContext> =>
  Effect.flatMap(AgentContext, (ctx) => ctx.callTool(tool.name, input) as Effect.Effect<O, CallError>)

/** Typed handoff to a defined agent. */
export const handoff = <I, O>(agent: Agent<I, O>, input: I): Effect.Effect<O, CallError, AgentContext> =>
  Effect.flatMap(AgentContext, (ctx) => ctx.handoff(agent.name, input) as Effect.Effect<O, CallError>)

/** Adds a note to the trace. */
export const note = (message: string): Effect.Effect<void, never, AgentContext> =>
  Effect.flatMap(AgentContext, (ctx) => ctx.note(message))
