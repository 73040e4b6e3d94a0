/**
 * Tasks (`tasks` table): the durable task queue. A task moves `queued → running → succeeded | failed |
 * cancelled | dead_lettered`, or `running → queued` when a worker crash sends it back for another
 * attempt. Terminal states are final. Reads by id take the tenant: another tenant's task is "not found".
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { StoreError } from "./Errors.js"
import { decodeRows, encodeJson } from "./internal/Rows.js"
import { Task, type TaskLedger, type TaskOutcome } from "./Model.js"

/** Input of `Tasks.create`; `input` must be JSON-serialisable. */
export interface NewTask {
  readonly id: string
  readonly tenant: string
  readonly session: string
  readonly agent: string
  readonly intent: string
  readonly input: unknown
  /** The background job that creates this task, if any. */
  readonly job?: string
}

/** The tasks service. Fails with `SqlError` when the database does (e.g. a duplicate id). */
export interface TasksService {
  /** Queues a task (`status: "queued"`, `createdAt` = now in epoch ms) and returns it. */
  readonly create: (input: NewTask) => Effect.Effect<Task, SqlError | StoreError>
  /**
   * `queued → running` (`startedAt` = now, `attempts` + 1); `false` when the task is unknown or not
   * queued (e.g. cancelled meanwhile).
   */
  readonly markRunning: (id: string) => Effect.Effect<boolean, SqlError>
  /**
   * `running → queued` after the worker running it crashed (`crashes` + 1, the error kept as the
   * reason of the last attempt); `false` when the task is not running.
   */
  readonly requeue: (id: string, errorCode: string, errorMessage: string) => Effect.Effect<boolean, SqlError>
  /** Tasks in one of `statuses`, oldest first (recovery at boot, reports); all tenants. */
  readonly listByStatus: (
    statuses: ReadonlyArray<"queued" | "running">
  ) => Effect.Effect<ReadonlyArray<Task>, SqlError | StoreError>
  /** Ids of the session's queued or running tasks. */
  readonly activeInSession: (
    tenant: string,
    session: string
  ) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /**
   * Ends a queued or running task (`endedAt` = now) with its output or its error code and message;
   * `false` when unknown or already terminal (the first outcome wins). `StoreError` when `output` is not
   * JSON-serialisable.
   */
  readonly complete: (id: string, outcome: TaskOutcome) => Effect.Effect<boolean, SqlError | StoreError>
  /** The tenant's task with this id, or `None` (also when it belongs to another tenant). */
  readonly get: (tenant: string, id: string) => Effect.Effect<Option.Option<Task>, SqlError | StoreError>
  /** Counts of all tasks, or of one tenant's: `submitted` = all, the rest by current status. */
  readonly ledger: (tenant?: string) => Effect.Effect<TaskLedger, SqlError>
}

const TaskRow = Schema.Struct({
  ...Task.fields,
  input: Schema.parseJson(),
  output: Schema.NullOr(Schema.parseJson())
})
const decode = decodeRows(TaskRow, "tasks")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<TasksService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql.literal(`id, tenant, session, agent, intent, input, status, output,
    error_code AS "errorCode", error_message AS "errorMessage", attempts, crashes, job,
    created_at AS "createdAt",
    started_at AS "startedAt", ended_at AS "endedAt"`)

  const create = Effect.fn("Tasks.create")(function* (input: NewTask) {
    yield* Effect.annotateCurrentSpan({ tenant: input.tenant, session: input.session, task: input.id })
    const json = yield* encodeJson(input.input, "task input")
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`INSERT INTO tasks (id, tenant, session, agent, intent, input, status, job,
      created_at) VALUES (${input.id}, ${input.tenant}, ${input.session}, ${input.agent}, ${input.intent},
      ${json}, 'queued', ${input.job ?? null}, ${now}) RETURNING ${columns}`.pipe(Effect.flatMap(decode))
    const row = rows[0]
    if (row === undefined)
      return yield* new StoreError({ code: "E_STORE", reason: "task insert returned no row" })
    return row
  })

  const markRunning = Effect.fn("Tasks.markRunning")(function* (id: string) {
    yield* Effect.annotateCurrentSpan({ task: id })
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`UPDATE tasks SET status = 'running', started_at = ${now}, attempts = attempts + 1
      WHERE id = ${id} AND status = 'queued' RETURNING id`
    return rows.length > 0
  })

  const requeue = Effect.fn("Tasks.requeue")(function* (id: string, errorCode: string, errorMessage: string) {
    yield* Effect.annotateCurrentSpan({ task: id })
    const rows = yield* sql`UPDATE tasks SET status = 'queued', crashes = crashes + 1,
      error_code = ${errorCode}, error_message = ${errorMessage}
      WHERE id = ${id} AND status = 'running' RETURNING id`
    return rows.length > 0
  })

  const listByStatus = Effect.fn("Tasks.listByStatus")(function* (
    statuses: ReadonlyArray<"queued" | "running">
  ) {
    if (statuses.length === 0) return []
    return yield* sql`SELECT ${columns} FROM tasks WHERE ${sql.in("status", statuses)}
      ORDER BY created_at, id`.pipe(Effect.flatMap(decode))
  })

  const activeInSession = Effect.fn("Tasks.activeInSession")(function* (tenant: string, session: string) {
    const rows = yield* sql<{ id: string }>`SELECT id FROM tasks WHERE tenant = ${tenant}
      AND session = ${session} AND status IN ('queued', 'running')`
    return rows.map((r) => r.id)
  })

  const complete = Effect.fn("Tasks.complete")(function* (id: string, outcome: TaskOutcome) {
    yield* Effect.annotateCurrentSpan({ task: id, status: outcome.status })
    const now = yield* Clock.currentTimeMillis
    const output = outcome.status === "succeeded" ? yield* encodeJson(outcome.output, "task output") : null
    const errorCode = outcome.status === "succeeded" ? null : outcome.errorCode
    const errorMessage = outcome.status === "succeeded" ? null : outcome.errorMessage
    const rows = yield* sql`UPDATE tasks SET status = ${outcome.status}, output = ${output},
      error_code = ${errorCode}, error_message = ${errorMessage}, ended_at = ${now}
      WHERE id = ${id} AND status IN ('queued', 'running') RETURNING id`
    return rows.length > 0
  })

  const get = Effect.fn("Tasks.get")(function* (tenant: string, id: string) {
    yield* Effect.annotateCurrentSpan({ tenant, task: id })
    const rows = yield* sql`SELECT ${columns} FROM tasks WHERE tenant = ${tenant} AND id = ${id}`.pipe(
      Effect.flatMap(decode)
    )
    return Option.fromNullable(rows[0])
  })

  const ledger = Effect.fn("Tasks.ledger")(function* (tenant?: string) {
    const rows =
      tenant === undefined
        ? yield* sql<{ status: string; n: number }>`SELECT status, COUNT(*) AS n FROM tasks GROUP BY status`
        : yield* sql<{ status: string; n: number }>`SELECT status, COUNT(*) AS n FROM tasks
            WHERE tenant = ${tenant} GROUP BY status`
    const count = (status: string) => rows.find((r) => r.status === status)?.n ?? 0
    const result: TaskLedger = {
      submitted: rows.reduce((sum, r) => sum + r.n, 0),
      queued: count("queued"),
      running: count("running"),
      succeeded: count("succeeded"),
      failed: count("failed"),
      cancelled: count("cancelled"),
      deadLettered: count("dead_lettered")
    }
    return result
  })

  return { create, markRunning, requeue, listByStatus, activeInSession, complete, get, ledger }
})

/** Tag of the tasks service. `Tasks.layer` requires a `SqlClient` with migrations applied. */
export class Tasks extends Context.Tag("@cordon/store/Tasks")<Tasks, TasksService>() {
  static readonly layer: Layer.Layer<Tasks, never, SqlClient.SqlClient> = Layer.effect(Tasks, make)
}
