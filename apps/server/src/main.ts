/**
 * The `cordon` command: `serve`, `demo`, `token`, `trace <taskId>`, `audit verify`.
 * Exit codes: 0 ok, 1 failure, 2 bad request, 3 unauthenticated, 4 not found, 5 denied, 6 conflict,
 * 7 unavailable (see `@cordon/api` `exitCodeOf`).
 */
import { type ApiError, exitCodeOf, makeClient } from "@cordon/api"
import { defaultDemoOptions, ensureSpamModel, mailTeam } from "@cordon/examples"
import * as CallerTokensModule from "@cordon/runtime/CallerTokens"
import * as ControlPlane from "@cordon/store/ControlPlane"
import { Sessions } from "@cordon/store/Sessions"
import { Tasks } from "@cordon/store/Tasks"
import { TraceStore } from "@cordon/store/TraceStore"
import { Args, Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger, Option } from "effect"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Team } from "@cordon/sdk/Team"
import { auditVerifyCommand } from "./AuditVerify.js"
import { policyCommand } from "./PolicyCli.js"
import { brokerLayer } from "./Broker.js"
import { demoUser, runDemo } from "./Demo.js"
import { runChaos } from "./Chaos.js"
import { serverLayer, taskView, traceEventView } from "./Http.js"
import { renderTraceTree } from "./TraceTree.js"
import { workerEntry } from "./WorkerEntry.js"

const { CallerTokens } = CallerTokensModule

const dataDir = Options.text("data-dir").pipe(
  Options.withDescription("data directory (control plane, tenant data, development issuer key)"),
  Options.withDefault(".cordon/data")
)
const resolveDir = (dir: string) => path.resolve(process.cwd(), dir)

const fail = (code: number, message: string) =>
  Effect.zipRight(
    Console.error(message),
    Effect.sync(() => {
      process.exitCode = code
    })
  )

/** Loads `--team` (a module exporting `team`, or a default export) and checks `--worker` exists. */
const customTeam = (teamModule: string, worker: string) =>
  Effect.gen(function* () {
    const mod = (yield* Effect.tryPromise({
      try: () => import(pathToFileURL(path.resolve(process.cwd(), teamModule)).href),
      catch: (e) => new Error(`cannot load team module ${teamModule}: ${String(e)}`)
    })) as { team?: Team; default?: Team }
    const team = mod.team ?? mod.default
    if (team === undefined || !(team.agents instanceof Map)) {
      return yield* Effect.fail(
        new Error(`${teamModule} exports no team (export const team = Team.make(...))`)
      )
    }
    const file = path.resolve(process.cwd(), worker)
    if (!existsSync(file)) return yield* Effect.fail(new Error(`worker bundle ${file} not found`))
    return { team, workerEntry: file, settings: {} }
  })

const serve = Command.make(
  "serve",
  {
    dataDir,
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1")),
    port: Options.integer("port").pipe(Options.withDefault(7411)),
    team: Options.text("team").pipe(
      Options.withDescription("module exporting your `team` (default: the example mail team)"),
      Options.optional
    ),
    worker: Options.text("worker").pipe(
      Options.withDescription("bundled worker entry that runs the same team (required with --team)"),
      Options.optional
    )
  },
  ({ dataDir, host, port, team, worker }) =>
    Effect.gen(function* () {
      const dir = resolveDir(dataDir)
      yield* Effect.promise(() => fs.mkdir(dir, { recursive: true, mode: 0o700 }))
      if (Option.isSome(team) !== Option.isSome(worker)) {
        return yield* fail(2, "E_BAD_INPUT: --team and --worker go together")
      }
      const chosen =
        Option.isSome(team) && Option.isSome(worker)
          ? yield* customTeam(team.value, worker.value)
          : {
              team: mailTeam,
              workerEntry: workerEntry(),
              settings: { spamModel: yield* Effect.promise(() => ensureSpamModel(dir)) }
            }
      const broker = brokerLayer({
        dataDir: dir,
        team: chosen.team,
        workerEntry: chosen.workerEntry,
        config: { settings: chosen.settings }
      })
      yield* Console.log(
        `cordon: serving team "${chosen.team.name}" on http://${host}:${port} (docs at /docs), data in ${dir}`
      )
      return yield* Layer.launch(serverLayer({ host, port, logRequests: true }).pipe(Layer.provide(broker)))
    })
).pipe(Command.withDescription("Run the Cordon service (HTTP API + tenant workers)"))

const demo = Command.make(
  "demo",
  {
    dataDir: Options.text("data-dir").pipe(Options.withDefault(".cordon/demo")),
    report: Options.text("report").pipe(Options.optional),
    perTenant: Options.integer("per-tenant").pipe(Options.withDefault(defaultDemoOptions.perTenant))
  },
  ({ dataDir, report, perTenant }) =>
    Effect.gen(function* () {
      const dir = resolveDir(dataDir)
      yield* Console.log(`cordon demo: 3 tenants × ${perTenant} real messages, data in ${dir}`)
      let last = 0
      const run = yield* runDemo({
        dataDir: dir,
        demo: { ...defaultDemoOptions, perTenant },
        onProgress: (done, total) => {
          const pct = Math.floor((done / total) * 10)
          if (pct > last || done === total) {
            last = pct
            process.stdout.write(`  ${done}/${total} tasks\n`)
          }
        }
      })
      const json = JSON.stringify(run.report, null, 2)
      yield* Console.log(json)
      if (Option.isSome(report)) {
        const file = path.resolve(process.cwd(), report.value)
        yield* Effect.promise(() => fs.writeFile(file, `${json}\n`))
        yield* Console.log(`report written to ${file}`)
      }
      const [tenant, taskId] = Object.entries(run.sampleTaskIds)[0] ?? []
      if (tenant !== undefined && taskId !== undefined) {
        yield* Console.log(
          `\nInspect a task that held a prompt injection (its denials are in the tree):\n` +
            `  npx --yes pnpm@10.34.9 -s cordon trace ${taskId} --tenant ${tenant} --user ${demoUser(tenant)} --data-dir ${dataDir} --offline`
        )
      }
    })
).pipe(Command.withDescription("Run the three-tenant mail demo end to end and report"))

const chaos = Command.make(
  "chaos",
  {
    dataDir: Options.text("data-dir").pipe(Options.withDefault(".cordon/chaos")),
    out: Options.text("out").pipe(Options.optional),
    perTenant: Options.integer("per-tenant").pipe(Options.withDefault(100))
  },
  ({ dataDir, out, perTenant }) =>
    Effect.gen(function* () {
      const dir = resolveDir(dataDir)
      yield* Console.log(
        `cordon chaos: 21 tenants, worker kills, a queue flood and a CPU runaway; data in ${dir}`
      )
      const report = yield* runChaos({
        dataDir: dir,
        perTenant,
        onProgress: (line) => console.log(`  ${line}`)
      })
      const json = JSON.stringify(report, null, 2)
      yield* Console.log(json)
      if (Option.isSome(out)) {
        const file = path.resolve(process.cwd(), out.value)
        yield* Effect.promise(() => fs.writeFile(file, `${json}\n`))
        yield* Console.log(`report written to ${file}`)
      }
      if (report.lost > 0 || report.liveCredentialsAfterRun > 0) process.exitCode = 1
    })
).pipe(Command.withDescription("Run the chaos scenario (worker kills, flood, CPU runaway) and report"))

const token = Command.make(
  "token",
  {
    dataDir,
    tenant: Options.text("tenant"),
    user: Options.text("user").pipe(Options.withDefault("operator")),
    ttl: Options.integer("ttl").pipe(Options.withDefault(3600)),
    roles: Options.choice("role", CallerTokensModule.CallerRoles).pipe(
      Options.repeated,
      Options.withDescription("a tenant role to grant (policy-admin, approver); repeatable")
    )
  },
  ({ dataDir, tenant, user, ttl, roles }) =>
    Effect.gen(function* () {
      const tokens = yield* CallerTokens
      const minted = yield* tokens.mint(tenant, user, ttl, roles)
      yield* Console.log(minted)
    }).pipe(
      Effect.provide(CallerTokensModule.layerDev(resolveDir(dataDir))),
      Effect.catchTag("CallerTokenInvalid", (e) => fail(2, `${e.code}: ${e.reason}`))
    )
).pipe(Command.withDescription("Mint a development caller token bound to one tenant"))

/**
 * Reads a trace straight from the control-plane database, with the API's rule: only a task of the caller's
 * tenant whose session is the caller user's.
 */
const offlineTrace = (dir: string, caller: { tenant: string; user: string }, taskId: string) =>
  Effect.gen(function* () {
    const tasks = yield* Tasks
    const sessions = yield* Sessions
    const traces = yield* TraceStore
    const task = yield* tasks.get(caller.tenant, taskId)
    if (Option.isNone(task)) return Option.none()
    const session = yield* sessions.get(caller.tenant, task.value.session)
    if (Option.isNone(session) || session.value.userId !== caller.user) return Option.none()
    const events = yield* traces.list(caller.tenant, taskId)
    return Option.some({ task: taskView(task.value), events: events.map(traceEventView) })
  }).pipe(
    Effect.provide(ControlPlane.layerWithServices({ filename: path.join(dir, "control-plane.sqlite") }))
  )

const trace = Command.make(
  "trace",
  {
    taskId: Args.text({ name: "taskId" }),
    dataDir,
    url: Options.text("url").pipe(Options.withDefault("http://127.0.0.1:7411")),
    tenant: Options.text("tenant").pipe(Options.optional),
    user: Options.text("user").pipe(Options.withDefault("operator")),
    callerToken: Options.text("token").pipe(Options.optional),
    offline: Options.boolean("offline").pipe(
      Options.withDescription("read the control-plane database directly instead of calling the API")
    ),
    json: Options.boolean("json")
  },
  (args) =>
    Effect.gen(function* () {
      const dir = resolveDir(args.dataDir)
      const tokens = yield* CallerTokens
      const bearer = Option.isSome(args.callerToken)
        ? args.callerToken.value
        : Option.isSome(args.tenant)
          ? yield* tokens.mint(args.tenant.value, args.user, 300)
          : undefined
      if (bearer === undefined) return yield* fail(2, "E_BAD_INPUT: give --token or --tenant")
      if (args.offline) {
        const caller = yield* tokens.verify(bearer)
        const found = yield* offlineTrace(dir, caller, args.taskId)
        if (Option.isNone(found)) {
          return yield* fail(4, `E_NOT_FOUND: no task ${args.taskId} for tenant ${caller.tenant}`)
        }
        return yield* Console.log(
          args.json ? JSON.stringify(found.value, null, 2) : renderTraceTree(found.value)
        )
      }
      const client = yield* makeClient(args.url, bearer)
      const view = yield* client.tasks.trace({ path: { taskId: args.taskId } }).pipe(
        Effect.catchTags({
          NotFound: (e) => Effect.fail(e as ApiError),
          Unauthenticated: (e) => Effect.fail(e as ApiError)
        })
      )
      yield* Console.log(args.json ? JSON.stringify(view, null, 2) : renderTraceTree(view))
    }).pipe(
      Effect.provide(CallerTokensModule.layerDev(resolveDir(args.dataDir))),
      Effect.catchAll((e) => {
        const tagged = e as { _tag?: string; code?: string; message?: string; reason?: string }
        switch (tagged._tag) {
          case "NotFound":
          case "Unauthenticated":
            return fail(
              exitCodeOf(e as ApiError),
              `${tagged.code}: ${tagged._tag === "NotFound" ? `no task ${args.taskId} for this tenant` : "caller token rejected"}`
            )
          case "CallerTokenInvalid":
            return fail(3, `E_UNAUTHENTICATED: ${tagged.reason}`)
          default:
            return fail(
              7,
              `E_UNAVAILABLE: could not reach ${args.url} (${tagged._tag ?? "error"}); is \`cordon serve\` running? (or use --offline)`
            )
        }
      })
    )
).pipe(Command.withDescription("Print a task's delegation tree (agents, handoffs, tool calls, decisions)"))

const audit = Command.make("audit").pipe(Command.withSubcommands([auditVerifyCommand]))

const cordon = Command.make("cordon").pipe(
  Command.withSubcommands([serve, demo, chaos, token, trace, audit, policyCommand])
)

const cli = Command.run(cordon, { name: "cordon", version: "0.1.0" })

// Logs go to stderr, so a command's stdout (`--json`, `cordon token`) stays machine-readable.
cli(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))),
  NodeRuntime.runMain({ disableErrorReporting: false, disablePrettyLogger: true })
)
