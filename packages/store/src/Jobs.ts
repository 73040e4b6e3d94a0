/**
 * Background jobs (`jobs` table): follow-up work an agent scheduled inside its session. A job moves
 * `pending → fired | cancelled | expired`; terminal states are final, so a cancelled job can never
 * fire. It carries no credential: the task it fires is minted a fresh root token then. Times are epoch
 * milliseconds; `deadline` is fixed at creation and never moves.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import type { StoreError } from "./Errors.js"
import { decodeRows, encodeJson } from "./internal/Rows.js"

/** Lifecycle of a job. */
export const JobStatus = Schema.Literal("pending", "fired", "cancelled", "expired")
export type JobStatus = typeof JobStatus.Type

/**
 * A job: `parentTask` the task that scheduled it, `runAt` when it becomes due, `deadline` the latest it
 * may run (≥ `runAt`), `generation` 0 for a job scheduled by an API task, parent's + 1 for a job
 * scheduled by a job's task, `task` the task it fired (or `null`), `reason` why it was cancelled or
 * expired.
 */
export const Job = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  parentTask: Schema.String,
  agent: Schema.String,
  intent: Schema.String,
  input: Schema.Unknown,
  status: JobStatus,
  runAt: Schema.Number,
  deadline: Schema.Number,
  generation: Schema.NonNegativeInt,
  task: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  endedAt: Schema.NullOr(Schema.Number)
})
export type Job = typeof Job.Type

/** Input of `Jobs.create`. */
export interface NewJob {
  readonly id: string
  readonly tenant: string
  readonly session: string
  readonly parentTask: string
  readonly agent: string
  readonly intent: string
  readonly input: unknown
  readonly runAt: number
  readonly deadline: number
  readonly generation: number
}

/** The jobs service. */
export interface JobsService {
  /** Records a pending job. `StoreError` when `input` is not JSON-serialisable. */
  readonly create: (job: NewJob) => Effect.Effect<Job, SqlError | StoreError>
  /** The tenant's job with this id, or `None` (also when it belongs to another tenant). */
  readonly get: (tenant: string, id: string) => Effect.Effect<Option.Option<Job>, SqlError | StoreError>
  /** Pending jobs with `runAt ≤ now`, oldest first, at most `limit`. */
  readonly due: (now: number, limit: number) => Effect.Effect<ReadonlyArray<Job>, SqlError | StoreError>
  /** The earliest `runAt` of any pending job, or `None`. */
  readonly nextRunAt: Effect.Effect<Option.Option<number>, SqlError>
  /** The job that created task `task`, if any (for reschedules). */
  readonly byTask: (task: string) => Effect.Effect<Option.Option<Job>, SqlError | StoreError>
  /** `pending → fired` with the task it created; `false` when no longer pending. */
  readonly markFired: (id: string, task: string) => Effect.Effect<boolean, SqlError>
  /** `pending → expired` (past its deadline, or its session closed); `false` when no longer pending. */
  readonly expire: (id: string, reason: string) => Effect.Effect<boolean, SqlError>
  /** Cancels every pending job of a session; returns the ids cancelled. */
  readonly cancelSession: (
    tenant: string,
    session: string,
    reason: string
  ) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /** Cancels every pending job of a tenant; returns the ids cancelled. */
  readonly cancelTenant: (tenant: string, reason: string) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /** Number of pending jobs of one session. */
  readonly pendingInSession: (tenant: string, session: string) => Effect.Effect<number, SqlError>
  /** Number of pending jobs, of one tenant or of all. */
  readonly pendingCount: (tenant?: string) => Effect.Effect<number, SqlError>
}

const JobRow = Schema.Struct({ ...Job.fields, input: Schema.parseJson() })
const decode = decodeRows(JobRow, "jobs")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<JobsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql.literal(`id, tenant, session, parent_task AS "parentTask", agent, intent, input, status,
    run_at AS "runAt", deadline, generation, task, reason, created_at AS "createdAt", ended_at AS "endedAt"`)

  const create = Effect.fn("Jobs.create")(function* (job: NewJob) {
    const json = yield* encodeJson(job.input, "job input")
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`INSERT INTO jobs (id, tenant, session, parent_task, agent, intent, input, status,
      run_at, deadline, generation, created_at) VALUES (${job.id}, ${job.tenant}, ${job.session},
      ${job.parentTask}, ${job.agent}, ${job.intent}, ${json}, 'pending', ${job.runAt}, ${job.deadline},
      ${job.generation}, ${now}) RETURNING ${columns}`.pipe(Effect.flatMap(decode))
    return rows[0] as Job
  })

  const get = (tenant: string, id: string) =>
    sql`SELECT ${columns} FROM jobs WHERE tenant = ${tenant} AND id = ${id}`.pipe(
      Effect.flatMap(decode),
      Effect.map((rows) => Option.fromNullable(rows[0]))
    )

  const due = (now: number, limit: number) =>
    sql`SELECT ${columns} FROM jobs WHERE status = 'pending' AND run_at <= ${now}
      ORDER BY run_at, id LIMIT ${limit}`.pipe(Effect.flatMap(decode))

  const nextRunAt = sql<{ next: number | null }>`SELECT MIN(run_at) AS next FROM jobs
    WHERE status = 'pending'`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.next)))

  const byTask = (task: string) =>
    sql`SELECT ${columns} FROM jobs WHERE task = ${task}`.pipe(
      Effect.flatMap(decode),
      Effect.map((rows) => Option.fromNullable(rows[0]))
    )

  const end = (status: "fired" | "expired", id: string, task: string | null, reason: string | null) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql`UPDATE jobs SET status = ${status}, task = ${task}, reason = ${reason},
        ended_at = ${now} WHERE id = ${id} AND status = 'pending' RETURNING id`
      return rows.length > 0
    })

  const cancelWhere = (where: ReturnType<typeof sql.and>, reason: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ id: string }>`UPDATE jobs SET status = 'cancelled', reason = ${reason},
        ended_at = ${now} WHERE status = 'pending' AND ${where} RETURNING id`
      return rows.map((r) => r.id)
    })

  return {
    create,
    get,
    due,
    nextRunAt,
    byTask,
    markFired: (id, task) => end("fired", id, task, null),
    expire: (id, reason) => end("expired", id, null, reason),
    cancelSession: (tenant, session, reason) =>
      cancelWhere(sql.and([sql`tenant = ${tenant}`, sql`session = ${session}`]), reason),
    cancelTenant: (tenant, reason) => cancelWhere(sql.and([sql`tenant = ${tenant}`]), reason),
    pendingInSession: (tenant, session) =>
      sql<{ n: number }>`SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending' AND tenant = ${tenant}
        AND session = ${session}`.pipe(Effect.map((rows) => rows[0]?.n ?? 0)),
    pendingCount: (tenant) =>
      (tenant === undefined
        ? sql<{ n: number }>`SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending'`
        : sql<{ n: number }>`SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending' AND tenant = ${tenant}`
      ).pipe(Effect.map((rows) => rows[0]?.n ?? 0))
  }
})

/** Tag of the jobs service. `Jobs.layer` requires a `SqlClient` with migrations applied. */
export class Jobs extends Context.Tag("@cordon/store/Jobs")<Jobs, JobsService>() {
  static readonly layer: Layer.Layer<Jobs, never, SqlClient.SqlClient> = Layer.effect(Jobs, make)
}
