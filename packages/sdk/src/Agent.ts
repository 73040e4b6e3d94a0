import type { Effect, Schema } from "effect"
import type { AgentContext } from "./AgentContext.js"
import type { CallError } from "./Errors.js"

/**
 * An agent: a program that acts for the session's user under one intent, calling tools and handing off to
 * other agents only through {@link AgentContext} (so every step passes the runtime's gate).
 *
 * - `intents`: intents a task may start this agent under, or hand off to it under.
 * - `tools`: tools the agent may call (a subset of its intents' tools; policy checks both).
 * - `handoffs`: agents it may hand work to (the declared handoff graph).
 * - `scopes`: the most a token held by this agent may carry (`allowed(agent)` in the token exchange).
 * - `idempotent`: running a task of this agent twice has the same effect as once, so the runtime may
 *   retry it after a worker crash (bounded). Default `false`: a crashed task fails instead.
 * - `run`: the program. Code-driven agents write it directly; model-driven agents wrap a model loop in
 *   the same shape, so the runtime treats both alike.
 */
export interface Agent<I = unknown, O = unknown> {
  readonly name: string
  readonly description: string
  readonly intents: ReadonlyArray<string>
  readonly tools: ReadonlyArray<string>
  readonly handoffs: ReadonlyArray<string>
  readonly scopes: ReadonlyArray<string>
  readonly idempotent: boolean
  readonly input: Schema.Schema<I, unknown>
  readonly output: Schema.Schema<O, unknown>
  readonly run: (input: I) => Effect.Effect<O, CallError, AgentContext>
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds agents of every input/output type
export type AnyAgent = Agent<any, any>

const AGENT_NAME = /^[a-z][a-z0-9-]{0,62}$/

/** Defines an agent; throws at definition time on an invalid name (a programming error). */
export const make = <I, IE, O, OE>(spec: {
  readonly name: string
  readonly description: string
  readonly intents: ReadonlyArray<string>
  readonly tools?: ReadonlyArray<string>
  readonly handoffs?: ReadonlyArray<string>
  readonly scopes: ReadonlyArray<string>
  readonly idempotent?: boolean
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
  readonly run: (input: I) => Effect.Effect<O, CallError, AgentContext>
}): Agent<I, O> => {
  if (!AGENT_NAME.test(spec.name)) throw new TypeError(`invalid agent name: ${spec.name}`)
  return {
    name: spec.name,
    description: spec.description,
    intents: spec.intents,
    tools: spec.tools ?? [],
    handoffs: spec.handoffs ?? [],
    scopes: [...spec.scopes].sort(),
    idempotent: spec.idempotent ?? false,
    input: spec.input as Schema.Schema<I, unknown>,
    output: spec.output as Schema.Schema<O, unknown>,
    run: spec.run
  }
}
