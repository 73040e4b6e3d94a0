/**
 * Human approvals (`approvals` table): a pending approval is created by the tool gate for one exact
 * action (bound to the SHA-256 of its canonical form), decided once by an approver of the same
 * tenant, and consumed at most once. Every state change is one conditional UPDATE, so two racing
 * consumers can never both use an approval.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { StoreError } from "./Errors.js"
import { decodeRows } from "./internal/Rows.js"

/** A stored approval. Times in epoch ms; `args` is canonical JSON text. */
export const ApprovalRow = Schema.Struct({
  id: Schema.String,
  tenant: Schema.String,
  session: Schema.String,
  task: Schema.String,
  agent: Schema.String,
  tool: Schema.String,
  args: Schema.String,
  actionHash: Schema.String,
  status: Schema.Literal("pending", "approved", "rejected", "used"),
  createdAt: Schema.Number,
  expiresAt: Schema.Number,
  decidedBy: Schema.NullOr(Schema.String),
  decidedAt: Schema.NullOr(Schema.Number),
  usedAt: Schema.NullOr(Schema.Number)
})
export type ApprovalRow = typeof ApprovalRow.Type

/** The approvals service. Fails with `SqlError` when the database does; `StoreError` on a bad row. */
export interface ApprovalsService {
  /** Stores a new approval (normally `pending`). */
  readonly insert: (row: ApprovalRow) => Effect.Effect<void, SqlError>
  /** The tenant's approval `id`. */
  readonly get: (
    tenant: string,
    id: string
  ) => Effect.Effect<Option.Option<ApprovalRow>, SqlError | StoreError>
  /** The tenant's approvals, newest first, optionally of one status (at most 200). */
  readonly list: (
    tenant: string,
    status?: ApprovalRow["status"]
  ) => Effect.Effect<ReadonlyArray<ApprovalRow>, SqlError | StoreError>
  /**
   * Sets a pending approval whose `expiresAt > nowMs` to `verdict`, recording `by`. Yields the
   * updated row, or `None` when no pending, unexpired approval matched.
   */
  readonly decide: (input: {
    readonly tenant: string
    readonly id: string
    readonly verdict: "approved" | "rejected"
    readonly by: string
    readonly nowMs: number
  }) => Effect.Effect<Option.Option<ApprovalRow>, SqlError | StoreError>
  /**
   * Marks an approved, unexpired approval bound to `actionHash` as used, atomically. Yields the row,
   * or `None` when it did not match (already used, another action, expired, not approved).
   */
  readonly markUsed: (input: {
    readonly tenant: string
    readonly id: string
    readonly actionHash: string
    readonly nowMs: number
  }) => Effect.Effect<Option.Option<ApprovalRow>, SqlError | StoreError>
}

const decode = decodeRows(ApprovalRow, "approvals")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<ApprovalsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql.literal(`id, tenant, session, task, agent, tool, args, action_hash AS "actionHash",
    status, created_at AS "createdAt", expires_at AS "expiresAt", decided_by AS "decidedBy",
    decided_at AS "decidedAt", used_at AS "usedAt"`)
  const first = (rows: ReadonlyArray<unknown>) => Effect.map(decode(rows), (r) => Option.fromNullable(r[0]))

  const insert = (row: ApprovalRow) =>
    sql`INSERT INTO approvals (id, tenant, session, task, agent, tool, args, action_hash, status,
      created_at, expires_at, decided_by, decided_at, used_at)
      VALUES (${row.id}, ${row.tenant}, ${row.session}, ${row.task}, ${row.agent}, ${row.tool}, ${row.args},
      ${row.actionHash}, ${row.status}, ${row.createdAt}, ${row.expiresAt}, ${row.decidedBy},
      ${row.decidedAt}, ${row.usedAt})`.pipe(
      Effect.asVoid,
      Effect.withSpan("Approvals.insert", { attributes: { tenant: row.tenant } })
    )

  const get = (tenant: string, id: string) =>
    sql`SELECT ${columns} FROM approvals WHERE tenant = ${tenant} AND id = ${id}`.pipe(
      Effect.flatMap(first),
      Effect.withSpan("Approvals.get", { attributes: { tenant } })
    )

  const list = (tenant: string, status?: ApprovalRow["status"]) =>
    (status === undefined
      ? sql`SELECT ${columns} FROM approvals WHERE tenant = ${tenant} ORDER BY created_at DESC LIMIT 200`
      : sql`SELECT ${columns} FROM approvals WHERE tenant = ${tenant} AND status = ${status}
          ORDER BY created_at DESC LIMIT 200`
    ).pipe(Effect.flatMap(decode), Effect.withSpan("Approvals.list", { attributes: { tenant } }))

  const decide: ApprovalsService["decide"] = (input) =>
    sql`UPDATE approvals SET status = ${input.verdict}, decided_by = ${input.by}, decided_at = ${input.nowMs}
      WHERE tenant = ${input.tenant} AND id = ${input.id} AND status = 'pending' AND expires_at > ${input.nowMs}
      RETURNING ${columns}`.pipe(
      Effect.flatMap(first),
      Effect.withSpan("Approvals.decide", { attributes: { tenant: input.tenant } })
    )

  const markUsed: ApprovalsService["markUsed"] = (input) =>
    sql`UPDATE approvals SET status = 'used', used_at = ${input.nowMs}
      WHERE tenant = ${input.tenant} AND id = ${input.id} AND action_hash = ${input.actionHash}
        AND status = 'approved' AND expires_at > ${input.nowMs}
      RETURNING ${columns}`.pipe(
      Effect.flatMap(first),
      Effect.withSpan("Approvals.markUsed", { attributes: { tenant: input.tenant } })
    )

  return { insert, get, list, decide, markUsed }
})

/** Tag of the approvals service. `Approvals.layer` requires a migrated `SqlClient`. */
export class Approvals extends Context.Tag("@cordon/store/Approvals")<Approvals, ApprovalsService>() {
  static readonly layer: Layer.Layer<Approvals, never, SqlClient.SqlClient> = Layer.effect(Approvals, make)
}
