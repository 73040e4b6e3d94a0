/**
 * A team for the execution and lifecycle rows: an idempotent `runner` and a non-idempotent `fragile`
 * agent that can succeed, sleep, spin without yielding, crash their worker (once or always), and
 * schedule background jobs. Side effects append to `<tenantDir>/effects.log`; crash markers live in the
 * tenant directory so a retried task can tell it already crashed once.
 */
import * as Agent from "@cordon/sdk/Agent"
import { AgentContext, call } from "@cordon/sdk/AgentContext"
import { ToolFailed } from "@cordon/sdk/Errors"
import * as Intent from "@cordon/sdk/Intent"
import * as Team from "@cordon/sdk/Team"
import * as Tool from "@cordon/sdk/Tool"
import { effect } from "../../fixtures/team.js"
import { Duration, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

/** The shared counting side effect: appends `label` to the tenant's `effects.log`. */
export { effect }

/** Crash marker files: `crash-once` exits the worker only the first time it runs for a label. */
export const marker = Tool.make({
  name: "crash.marker",
  description: "Create a marker file; report whether it existed",
  input: Schema.Struct({ label: Schema.String }),
  output: Schema.Struct({ existed: Schema.Boolean }),
  scopes: ["side:write"],
  handler: (input, ctx) =>
    Effect.sync(() => {
      fs.mkdirSync(ctx.tenantDir, { recursive: true })
      const file = path.join(ctx.tenantDir, `crash-${input.label.replace(/[^a-z0-9-]/gi, "_")}`)
      const existed = fs.existsSync(file)
      if (!existed) fs.writeFileSync(file, "1")
      return { existed }
    })
})

/** A shared dependency that times out for tenants whose id starts with `down` (CF-03); counts its calls. */
export const flaky = Tool.make({
  name: "flaky.dep",
  description: "A dependency that is down for some tenants",
  input: Schema.Struct({ n: Schema.Number }),
  output: Schema.Struct({ ok: Schema.Boolean }),
  scopes: ["side:write"],
  handler: (_, ctx) =>
    Effect.gen(function* () {
      fs.mkdirSync(ctx.tenantDir, { recursive: true })
      fs.appendFileSync(path.join(ctx.tenantDir, "flaky.log"), "call\n")
      if (ctx.tenant.startsWith("down")) {
        return yield* new ToolFailed({ code: "E_UPSTREAM_TIMEOUT", reason: "dependency timed out" })
      }
      return { ok: true }
    })
})

/** A destructive step no intent allows (CF-04): it must never run. */
export const deleteAll = Tool.make({
  name: "records.purge",
  description: "Delete every record",
  input: Schema.Struct({}),
  output: Schema.Struct({ ok: Schema.Boolean }),
  scopes: ["side:write"],
  handler: (_, ctx) =>
    Effect.sync(() => {
      fs.mkdirSync(ctx.tenantDir, { recursive: true })
      fs.appendFileSync(path.join(ctx.tenantDir, "effects.log"), "DELETED-ALL\n")
      return { ok: true }
    })
})

export const Input = Schema.Struct({
  mode: Schema.Literal(
    "ok",
    "sleep",
    "spin",
    "crash",
    "crash-once",
    "schedule",
    "reschedule",
    "schedule-secret",
    "loop",
    "flaky",
    "fanout",
    "bad-steps"
  ),
  count: Schema.optional(Schema.Number),
  label: Schema.optional(Schema.String),
  ms: Schema.optional(Schema.Number),
  delayMs: Schema.optional(Schema.Number),
  payload: Schema.optional(Schema.String)
})
type Input = typeof Input.Type

const program = (self: string) => (input: Input) =>
  Effect.gen(function* () {
    const label = input.label ?? input.mode
    switch (input.mode) {
      case "ok":
        return yield* call(effect, { label })
      case "sleep":
        yield* Effect.sleep(Duration.millis(input.ms ?? 1000))
        return yield* call(effect, { label })
      case "spin": {
        // Never yields: only terminating the thread stops it.
        const until = Date.now() + (input.ms ?? 3_600_000)
        while (Date.now() < until) {}
        return { spun: true }
      }
      case "crash":
        return process.exit(1)
      case "crash-once": {
        const seen = yield* call(marker, { label })
        if (!seen.existed) return process.exit(1)
        return yield* call(effect, { label })
      }
      case "schedule": {
        const ctx = yield* AgentContext
        return yield* ctx.schedule(self, { mode: "ok", label }, { delayMs: input.delayMs ?? 200 })
      }
      case "reschedule": {
        const ctx = yield* AgentContext
        yield* call(effect, { label })
        return yield* ctx.schedule(
          self,
          { mode: "reschedule", label, delayMs: input.delayMs },
          {
            delayMs: input.delayMs ?? 200
          }
        )
      }
      case "schedule-secret": {
        const ctx = yield* AgentContext
        return yield* ctx.schedule(self, { mode: "ok", label: input.payload ?? "" }, { delayMs: 10 })
      }
      case "loop":
      case "flaky":
      case "fanout":
      case "bad-steps": {
        // Tries `count` steps; records each outcome's code ("ok" or the stable error code).
        const ctx = yield* AgentContext
        const codes: Array<string> = []
        for (let i = 0; i < (input.count ?? 10); i++) {
          const step =
            input.mode === "loop"
              ? ctx.callTool("side.effect", { label })
              : input.mode === "flaky"
                ? ctx.callTool("flaky.dep", { n: i })
                : input.mode === "fanout"
                  ? ctx.handoff("helper", { mode: "ok", label: `${label}-${i}` })
                  : ctx.callTool(i % 2 === 0 ? "records.purge" : "side.effect", i % 2 === 0 ? {} : { label })
          codes.push(
            yield* step.pipe(
              Effect.as("ok"),
              Effect.catchAll((e) => Effect.succeed(e.code))
            )
          )
        }
        return { codes }
      }
    }
  })

/** The target of fan-out handoffs (RE-04). */
export const helper = Agent.make({
  name: "helper",
  description: "Leaf helper",
  intents: ["exec.run"],
  tools: ["side.effect"],
  scopes: ["side:write"],
  input: Input,
  output: Schema.Unknown,
  run: (input) => call(effect, { label: input.label ?? "helper" })
})

export const runner = Agent.make({
  name: "runner",
  description: "Idempotent runner",
  intents: ["exec.run"],
  tools: ["side.effect", "crash.marker", "flaky.dep"],
  handoffs: ["helper"],
  scopes: ["side:write"],
  idempotent: true,
  input: Input,
  output: Schema.Unknown,
  run: (input) => program("runner")(input)
})

export const fragile = Agent.make({
  name: "fragile",
  description: "Non-idempotent runner",
  intents: ["exec.run"],
  tools: ["side.effect", "crash.marker"],
  scopes: ["side:write"],
  input: Input,
  output: Schema.Unknown,
  run: (input) => program("fragile")(input)
})

export const execRun = Intent.make({
  name: "exec.run",
  description: "Execution probes",
  agents: ["runner", "fragile", "helper"],
  tools: ["side.effect", "crash.marker", "flaky.dep"],
  scopes: ["side:write"]
})

export const lifecycleTeam = Team.make({
  name: "lifecycle",
  agents: [runner, fragile, helper],
  tools: [effect, marker, flaky, deleteAll],
  intents: [execRun]
})

/** The export `cordon serve --team` loads. */
export const team = lifecycleTeam
