/**
 * Migration 0003_policy (placeholder: no schema change yet).
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const migration: Effect.Effect<void, unknown, SqlClient.SqlClient> = Effect.void
