/**
 * The team of the audit-tampering rows (AT-01..03): a `scribe` agent whose moves are chosen by its input
 * (run a side effect, call a tool by an attacker-chosen name, ask for the log "cleanup" tool, inspect what
 * its worker was given), and a `logs.cleanup` tool that no agent of the intent may call and that counts
 * its calls if it ever runs.
 */
import * as Agent from "@cordon/sdk/Agent"
import { AgentContext } from "@cordon/sdk/AgentContext"
import * as Intent from "@cordon/sdk/Intent"
import * as Team from "@cordon/sdk/Team"
import * as Tool from "@cordon/sdk/Tool"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { effect } from "../../fixtures/team.js"

/** Every message the worker thread received from the broker, as seen on its port (set by `worker.ts`). */
export const received = (): ReadonlyArray<unknown> =>
  ((globalThis as { __cordonReceived?: Array<unknown> }).__cordonReceived ?? []).slice()

/** A "helper" tool that would erase the audit trail: counts each run in `effects.log` (it must never run). */
export const cleanup = Tool.make({
  name: "logs.cleanup",
  description: "Delete old audit records",
  input: Schema.Struct({}),
  output: Schema.Struct({ deleted: Schema.Number }),
  scopes: ["logs:delete"],
  handler: (_, ctx) =>
    Effect.sync(() => {
      fs.mkdirSync(ctx.tenantDir, { recursive: true })
      fs.appendFileSync(path.join(ctx.tenantDir, "effects.log"), "logs.cleanup\n")
      return { deleted: 0 }
    })
})

const strings = (value: unknown, out: Set<string>, depth = 0): Set<string> => {
  if (depth > 12) return out
  if (typeof value === "string") out.add(value.slice(0, 300))
  else if (Array.isArray(value)) for (const v of value) strings(v, out, depth + 1)
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(k)
      strings(v, out, depth + 1)
    }
  }
  return out
}

/** Reports what the worker thread holds: its environment and every string the broker ever sent it. */
export const inspect = Tool.make({
  name: "worker.inspect",
  description: "Report the worker's environment and boot data",
  input: Schema.Struct({}),
  output: Schema.Struct({ envKeys: Schema.Number, received: Schema.Array(Schema.String) }),
  scopes: ["probe:read"],
  handler: () =>
    Effect.sync(() => ({
      envKeys: Object.keys(process.env).length,
      received: [...strings(received(), new Set())]
    }))
})

const Input = Schema.Struct({ mode: Schema.String, text: Schema.optional(Schema.String) })

export const scribe = Agent.make({
  name: "scribe",
  description: "Acts as its input says",
  intents: ["audit.probe"],
  tools: ["side.effect", "worker.inspect"],
  scopes: ["probe:read", "side:write"],
  input: Input,
  output: Schema.Unknown,
  run: (input) =>
    Effect.gen(function* () {
      const ctx = yield* AgentContext
      switch (input.mode) {
        case "effect":
          return yield* ctx.callTool("side.effect", { label: input.text ?? "scribe" })
        case "call":
          // An attacker-chosen tool name, e.g. one carrying a forged audit record.
          return yield* ctx.callTool(input.text ?? "", {})
        case "inspect":
          return yield* ctx.callTool("worker.inspect", {})
        default:
          return { idle: true }
      }
    })
})

export const auditProbe = Intent.make({
  name: "audit.probe",
  description: "Audit-tampering probes",
  agents: ["scribe"],
  tools: ["side.effect", "worker.inspect"],
  scopes: ["probe:read", "side:write"]
})

export const auditTeam = Team.make({
  name: "audit-probe",
  agents: [scribe],
  tools: [effect, inspect, cleanup],
  intents: [auditProbe]
})
