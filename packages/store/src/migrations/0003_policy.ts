/**
 * Migration 0003_policy: tenant policy sets and human approvals.
 *
 * - `policy_versions`: every uploaded policy text of a tenant, numbered 1, 2, … per tenant and never
 *   changed or deleted (UPDATE/DELETE abort), so any version can be re-activated (rollback).
 * - `policy_active`: the tenant's active version (one row per tenant, replaced atomically).
 * - `approvals`: pending / decided / used human approvals, bound to the SHA-256 of the canonical
 *   action; `args` is the canonical JSON the approver is shown. Times in epoch ms.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const migration: Effect.Effect<void, unknown, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  yield* sql`CREATE TABLE policy_versions (
    tenant TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    text TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, version)
  ) STRICT`
  yield* sql`CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END`
  yield* sql`CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END`

  yield* sql`CREATE TABLE policy_active (
    tenant TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    activated_at INTEGER NOT NULL,
    activated_by TEXT NOT NULL,
    FOREIGN KEY (tenant, version) REFERENCES policy_versions (tenant, version)
  ) STRICT`

  yield* sql`CREATE TABLE approvals (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    session TEXT NOT NULL,
    task TEXT NOT NULL,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    args TEXT NOT NULL CHECK (json_valid(args)),
    action_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'used')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    used_at INTEGER
  ) STRICT`
  yield* sql`CREATE INDEX approvals_tenant_status ON approvals (tenant, status, created_at)`
})
