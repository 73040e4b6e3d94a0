/**
 * The chaos run's team: the demo's mail team plus one misbehaving agent, `runaway`, whose program spins
 * on the CPU without ever yielding (only its deadline, which terminates its tenant's worker, stops it).
 */
import * as Agent from "@cordon/sdk/Agent"
import * as Intent from "@cordon/sdk/Intent"
import * as Team from "@cordon/sdk/Team"
import { Effect, Schema } from "effect"
import { admin, responder, summarizer, triage } from "../team/agents.js"
import { administer, processMail } from "../team/index.js"
import { classifyMail, draftReply, readInbox, remember, searchCache, sendMail } from "../team/tools.js"

/** Spins for `ms` milliseconds (default: an hour) without yielding. */
export const runaway = Agent.make({
  name: "runaway",
  description: "A CPU runaway: a busy loop that never yields",
  intents: ["ops.runaway"],
  scopes: ["cpu:burn"],
  input: Schema.Struct({ ms: Schema.optional(Schema.Number) }),
  output: Schema.Struct({ spun: Schema.Boolean }),
  run: (input) =>
    Effect.sync(() => {
      const until = Date.now() + (input.ms ?? 3_600_000)
      while (Date.now() < until) {}
      return { spun: true }
    })
})

export const runawayIntent = Intent.make({
  name: "ops.runaway",
  description: "A task that never yields",
  agents: ["runaway"],
  tools: [],
  scopes: ["cpu:burn"]
})

export const chaosTeam = Team.make({
  name: "mail-chaos",
  agents: [triage, summarizer, responder, admin, runaway],
  tools: [classifyMail, readInbox, remember, searchCache, draftReply, sendMail],
  intents: [processMail, administer, runawayIntent]
})
