import type { PolicyRequestInput as PolicyRequest } from "../src/index.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const spiffe = (tenant: string, agent: string) => `spiffe://cordon.test/tenant/${tenant}/agent/${agent}`

/** A principal of tenant `tenant` named `agent`. */
export const agent = (tenant: string, name: string, handoffs: ReadonlyArray<string> = []) => ({
  tenant,
  agent: name,
  spiffeId: spiffe(tenant, name),
  handoffs
})

/** The target of a handoff. */
export const targetAgent = (tenant: string, name: string) => ({
  type: "Agent" as const,
  tenant,
  name,
  spiffeId: spiffe(tenant, name),
  handoffs: []
})

/** Context of a task of tenant `tenant` under the "summarize-inbox" intent. */
export const context = (tenant: string, overrides: Partial<Mutable<PolicyRequest["context"]>> = {}) => ({
  tenant,
  session: "sess-1",
  intent: {
    name: "summarize-inbox",
    tools: ["mail.read", "mail.summarize"],
    agents: ["triage", "summarizer"]
  },
  depth: 0,
  actors: [spiffe(tenant, "triage")],
  now: 1_767_225_600,
  ...overrides
})

/** `triage` of tenant `acme` invoking `tool` of tenant `acme`. */
export const invokeTool = (tool: string, tenant = "acme"): PolicyRequest => ({
  principal: agent(tenant, "triage", ["summarizer"]),
  action: "InvokeTool",
  resource: { type: "Tool", tenant, name: tool },
  context: context(tenant)
})
