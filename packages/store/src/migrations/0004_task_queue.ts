/**
 * Migration 0004: the durable task queue and background jobs.
 *
 * `tasks` is rebuilt (SQLite cannot alter a CHECK constraint) with the `dead_lettered` state, the
 * number of times the task was started (`attempts`), the number of worker crashes it was running in
 * (`crashes`, the poison-pill count) and the id of the job that created it (`job`, NULL for tasks
 * submitted through the API). Existing rows keep their values with both counters at 0.
 *
 * `jobs` holds follow-up work an agent scheduled inside its session: when it may run (`run_at`), the
 * latest it may ever run (`deadline`, fixed at creation: min(session expiry, creating job's
 * deadline)), and its state `pending → fired | cancelled | expired`. A job holds no credential: the
 * task it fires gets a fresh root token. All times are epoch milliseconds.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const migration = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  yield* sql`CREATE TABLE tasks_v2 (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT NOT NULL,
    agent TEXT NOT NULL,
    intent TEXT NOT NULL,
    input TEXT NOT NULL CHECK (json_valid(input)),
    status TEXT NOT NULL DEFAULT 'queued'
      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead_lettered')),
    output TEXT CHECK (output IS NULL OR json_valid(output)),
    error_code TEXT,
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    crashes INTEGER NOT NULL DEFAULT 0 CHECK (crashes >= 0),
    job TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER
  ) STRICT`
  yield* sql`INSERT INTO tasks_v2 (id, tenant, session, agent, intent, input, status, output, error_code,
    error_message, created_at, started_at, ended_at)
    SELECT id, tenant, session, agent, intent, input, status, output, error_code, error_message, created_at,
    started_at, ended_at FROM tasks`
  yield* sql`DROP TABLE tasks`
  yield* sql`ALTER TABLE tasks_v2 RENAME TO tasks`
  yield* sql`CREATE INDEX tasks_tenant_session ON tasks (tenant, session)`
  yield* sql`CREATE INDEX tasks_status ON tasks (status, created_at)`

  yield* sql`CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT NOT NULL,
    parent_task TEXT NOT NULL,
    agent TEXT NOT NULL,
    intent TEXT NOT NULL,
    input TEXT NOT NULL CHECK (json_valid(input)),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled', 'expired')),
    run_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL CHECK (deadline >= run_at),
    generation INTEGER NOT NULL CHECK (generation >= 0),
    task TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    ended_at INTEGER
  ) STRICT`
  yield* sql`CREATE INDEX jobs_pending ON jobs (status, run_at)`
  yield* sql`CREATE INDEX jobs_session ON jobs (tenant, session, status)`
})
