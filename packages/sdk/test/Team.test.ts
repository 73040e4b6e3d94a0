import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Agent from "../src/Agent.js"
import * as Intent from "../src/Intent.js"
import * as Team from "../src/Team.js"
import * as Tool from "../src/Tool.js"

const echo = Tool.make({
  name: "echo.say",
  description: "echo",
  input: Schema.Struct({ text: Schema.String }),
  output: Schema.Struct({ text: Schema.String }),
  scopes: ["echo:use"],
  handler: (input) => Effect.succeed(input)
})

const agent = (spec: Partial<Parameters<typeof Agent.make>[0]> = {}) =>
  Agent.make({
    name: "talker",
    description: "talks",
    intents: ["chat"],
    tools: ["echo.say"],
    scopes: ["echo:use"],
    input: Schema.Unknown,
    output: Schema.Unknown,
    run: () => Effect.succeed(null),
    ...spec
  })

const chat = Intent.make({
  name: "chat",
  description: "chat",
  agents: ["talker"],
  tools: ["echo.say"],
  scopes: ["echo:use"]
})

describe("Team.make", () => {
  it("builds a closed team", () => {
    const team = Team.make({ name: "t", agents: [agent()], tools: [echo], intents: [chat] })
    expect([...team.agents.keys()]).toEqual(["talker"])
    expect(team.tools.get("echo.say")?.scopes).toEqual(["echo:use"])
  })

  it("lists every dangling reference", () => {
    expect(() =>
      Team.make({
        name: "t",
        agents: [agent({ tools: ["nope.tool"], handoffs: ["ghost"], intents: ["chat", "other"] })],
        tools: [echo],
        intents: [chat]
      })
    ).toThrow(/unknown tool nope.tool[\s\S]*unknown handoff ghost[\s\S]*unknown intent other/)
  })

  it("refuses duplicate names", () => {
    expect(() =>
      Team.make({ name: "t", agents: [agent(), agent()], tools: [echo], intents: [chat] })
    ).toThrow(/duplicate agent/)
  })
})

describe("definitions", () => {
  it("refuse invalid names, empty scopes and wildcard intent scopes", () => {
    expect(() => agent({ name: "Bad Name" })).toThrow(/invalid agent name/)
    expect(() => Tool.make({ ...echo, name: "x", scopes: [] })).toThrow(/at least one scope/)
    expect(() => Tool.make({ ...echo, name: "../x" })).toThrow(/invalid tool name/)
    expect(() => Intent.make({ ...chat, scopes: ["*"] })).toThrow(/wildcard/)
    expect(() => Intent.make({ ...chat, scopes: [] })).toThrow(/at least one scope/)
  })

  it("normalises scopes (sorted, unique)", () => {
    expect(Intent.make({ ...chat, scopes: ["b:x", "a:y", "b:x"] }).scopes).toEqual(["a:y", "b:x"])
  })
})
