/**
 * Schema migrations of the control-plane database, applied in id order by `SqliteMigrator` and recorded
 * in `effect_sql_migrations`, so reopening a database never re-runs one.
 *
 * Times are INTEGER epoch milliseconds except `credentials.exp` (epoch seconds, like JWT `exp`).
 * Closed value sets are enforced with CHECK constraints. `audit_log` is append-only at the SQL level:
 * triggers abort any UPDATE or DELETE (the hash chain still detects tampering by someone who drops them).
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { migration as policy } from "./migrations/0003_policy.js"
import { migration as taskQueue } from "./migrations/0004_task_queue.js"
import { migration as auditCheckpoints } from "./migrations/0005_audit_checkpoints.js"

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  yield* sql`CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at INTEGER NOT NULL
  ) STRICT`

  yield* sql`CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'ended')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
  ) STRICT`
  yield* sql`CREATE INDEX sessions_tenant_status ON sessions (tenant, status)`

  yield* sql`CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT NOT NULL,
    agent TEXT NOT NULL,
    intent TEXT NOT NULL,
    input TEXT NOT NULL CHECK (json_valid(input)),
    status TEXT NOT NULL DEFAULT 'queued'
      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    output TEXT CHECK (output IS NULL OR json_valid(output)),
    error_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER
  ) STRICT`
  yield* sql`CREATE INDEX tasks_tenant_session ON tasks (tenant, session)`
  yield* sql`CREATE INDEX tasks_status ON tasks (status)`

  yield* sql`CREATE TABLE credentials (
    jti TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT NOT NULL,
    task TEXT NOT NULL,
    agent TEXT NOT NULL,
    exp INTEGER NOT NULL,
    minted_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT
  ) STRICT`
  yield* sql`CREATE INDEX credentials_task ON credentials (task)`
  yield* sql`CREATE INDEX credentials_tenant_revoked ON credentials (tenant, revoked_at)`

  yield* sql`CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    ts INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT,
    workload TEXT NOT NULL,
    intent TEXT NOT NULL,
    actor_chain_hash TEXT NOT NULL,
    chain_depth INTEGER NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('allow', 'deny')),
    error_code TEXT,
    reason TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    jti_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT`
  yield* sql`CREATE INDEX audit_log_tenant_seq ON audit_log (tenant, seq)`
  yield* sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`
  yield* sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`

  yield* sql`CREATE TABLE trace_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    txn TEXT NOT NULL,
    tenant TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    kind TEXT NOT NULL
      CHECK (kind IN ('task', 'agent', 'handoff', 'tool', 'policy', 'revocation', 'cache', 'error')),
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'deny', 'running')),
    attrs TEXT NOT NULL CHECK (json_valid(attrs)),
    start_ms INTEGER NOT NULL,
    end_ms INTEGER
  ) STRICT`
  yield* sql`CREATE INDEX trace_events_tenant_txn ON trace_events (tenant, txn)`
  yield* sql`CREATE INDEX trace_events_span ON trace_events (span_id)`
})

/**
 * Tenant signing keys, private halves wrapped (AES-256-GCM under the master key; the wrap is opaque here).
 * `activated_at`/`retired_at` in epoch ms; a compromised key is retired at once.
 */
const signingKeys = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE signing_keys (
    tenant TEXT NOT NULL,
    kid TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER NOT NULL,
    retired_at INTEGER,
    compromised INTEGER NOT NULL CHECK (compromised IN (0, 1)),
    wrapped TEXT NOT NULL,
    PRIMARY KEY (tenant, kid)
  ) STRICT`
})

/**
 * All migrations, keyed `"<id>_<name>"` as `SqliteMigrator.fromRecord` expects. Append new ones with a
 * higher id; never edit one that has shipped.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_initial": initial,
  "0002_signing_keys": signingKeys,
  "0003_policy": policy,
  "0004_task_queue": taskQueue,
  "0005_audit_checkpoints": auditCheckpoints
}
