import type { AnyAgent } from "./Agent.js"
import type { Intent } from "./Intent.js"
import type { AnyTool } from "./Tool.js"

/**
 * A team: the agents, tools and intents a deployment runs. The same definition is loaded by the broker
 * (which reads its graph, intents and scopes) and by every tenant worker (which runs its programs).
 */
export interface Team {
  readonly name: string
  readonly agents: ReadonlyMap<string, AnyAgent>
  readonly tools: ReadonlyMap<string, AnyTool>
  readonly intents: ReadonlyMap<string, Intent>
}

/**
 * Builds a team and checks it is closed: every tool, handoff target and intent an agent names exists,
 * an agent's tools are all allowed by at least one of its intents, and an intent names only known agents
 * and tools. Throws a `TypeError` listing every problem (definitions are code).
 */
export const make = (spec: {
  readonly name: string
  readonly agents: ReadonlyArray<AnyAgent>
  readonly tools: ReadonlyArray<AnyTool>
  readonly intents: ReadonlyArray<Intent>
}): Team => {
  const agents = byName(spec.agents, "agent")
  const tools = byName(spec.tools, "tool")
  const intents = byName(spec.intents, "intent")
  const problems: Array<string> = []
  for (const agent of agents.values()) {
    for (const t of agent.tools) if (!tools.has(t)) problems.push(`agent ${agent.name}: unknown tool ${t}`)
    for (const a of agent.handoffs)
      if (!agents.has(a)) problems.push(`agent ${agent.name}: unknown handoff ${a}`)
    for (const i of agent.intents)
      if (!intents.has(i)) problems.push(`agent ${agent.name}: unknown intent ${i}`)
  }
  for (const intent of intents.values()) {
    for (const a of intent.agents)
      if (!agents.has(a)) problems.push(`intent ${intent.name}: unknown agent ${a}`)
    for (const t of intent.tools) if (!tools.has(t)) problems.push(`intent ${intent.name}: unknown tool ${t}`)
  }
  if (problems.length > 0) throw new TypeError(`team ${spec.name} is not closed:\n  ${problems.join("\n  ")}`)
  return { name: spec.name, agents, tools, intents }
}

const byName = <A extends { readonly name: string }>(items: ReadonlyArray<A>, kind: string) => {
  const map = new Map<string, A>()
  for (const item of items) {
    if (map.has(item.name)) throw new TypeError(`duplicate ${kind}: ${item.name}`)
    map.set(item.name, item)
  }
  return map as ReadonlyMap<string, A>
}
