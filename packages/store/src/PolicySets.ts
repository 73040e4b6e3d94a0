/**
 * Tenant policy sets (`policy_versions`, `policy_active`): every uploaded text is kept under the next
 * version number of its tenant; activating a version (new or old: rollback) replaces the tenant's
 * active pointer in one statement. Validation against the Cedar schema happens before `create`
 * (in the API); this module stores text only.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import type { StoreError } from "./Errors.js"
import { decodeRows } from "./internal/Rows.js"

/** One stored version. `createdAt` in epoch ms; `sha256` of the text (hex). */
export const PolicyVersionRow = Schema.Struct({
  tenant: Schema.String,
  version: Schema.Int,
  text: Schema.String,
  sha256: Schema.String,
  createdAt: Schema.Number,
  createdBy: Schema.String
})
export type PolicyVersionRow = typeof PolicyVersionRow.Type

/** A tenant's active version. `activatedAt` in epoch ms. */
export const ActivePolicyRow = Schema.Struct({
  tenant: Schema.String,
  version: Schema.Int,
  text: Schema.String,
  activatedAt: Schema.Number,
  activatedBy: Schema.String
})
export type ActivePolicyRow = typeof ActivePolicyRow.Type

/** The policy sets service. Fails with `SqlError` when the database does; `StoreError` on a bad row. */
export interface PolicySetsService {
  /** Stores `text` as the tenant's next version (1 for the first), by `createdBy`. */
  readonly create: (input: {
    readonly tenant: string
    readonly text: string
    readonly createdBy: string
  }) => Effect.Effect<PolicyVersionRow, SqlError | StoreError>
  /** The tenant's versions, newest first (at most 500). */
  readonly list: (tenant: string) => Effect.Effect<ReadonlyArray<PolicyVersionRow>, SqlError | StoreError>
  /** One version of the tenant. */
  readonly get: (
    tenant: string,
    version: number
  ) => Effect.Effect<Option.Option<PolicyVersionRow>, SqlError | StoreError>
  /**
   * Makes `version` the tenant's active version; `false` (nothing changed) when the tenant has no
   * such version.
   */
  readonly activate: (input: {
    readonly tenant: string
    readonly version: number
    readonly activatedBy: string
  }) => Effect.Effect<boolean, SqlError>
  /** The tenant's active version with its text. */
  readonly active: (tenant: string) => Effect.Effect<Option.Option<ActivePolicyRow>, SqlError | StoreError>
  /** Every tenant's active version (to load them at boot). */
  readonly allActive: () => Effect.Effect<ReadonlyArray<ActivePolicyRow>, SqlError | StoreError>
}

const decodeVersions = decodeRows(PolicyVersionRow, "policy_versions")
const decodeActive = decodeRows(ActivePolicyRow, "policy_active")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<PolicySetsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const lock = yield* Effect.makeSemaphore(1)
  const versionColumns = sql.literal(
    `tenant, version, text, sha256, created_at AS "createdAt", created_by AS "createdBy"`
  )
  const activeColumns = sql.literal(`a.tenant AS tenant, a.version AS version, v.text AS text,
    a.activated_at AS "activatedAt", a.activated_by AS "activatedBy"`)

  const create = Effect.fn("PolicySets.create")(function* (input: {
    readonly tenant: string
    readonly text: string
    readonly createdBy: string
  }) {
    yield* Effect.annotateCurrentSpan({ tenant: input.tenant })
    const now = yield* Clock.currentTimeMillis
    const digest = createHash("sha256").update(input.text, "utf8").digest("hex")
    const rows = yield* lock.withPermits(1)(
      sql.withTransaction(sql`INSERT INTO policy_versions (tenant, version, text, sha256, created_at, created_by)
        SELECT ${input.tenant}, COALESCE(MAX(version), 0) + 1, ${input.text}, ${digest}, ${now}, ${input.createdBy}
        FROM policy_versions WHERE tenant = ${input.tenant}
        RETURNING ${versionColumns}`)
    )
    const [row] = yield* decodeVersions(rows)
    return row as PolicyVersionRow
  })

  const list = (tenant: string) =>
    sql`SELECT ${versionColumns} FROM policy_versions WHERE tenant = ${tenant} ORDER BY version DESC LIMIT 500`.pipe(
      Effect.flatMap(decodeVersions),
      Effect.withSpan("PolicySets.list", { attributes: { tenant } })
    )

  const get = (tenant: string, version: number) =>
    sql`SELECT ${versionColumns} FROM policy_versions WHERE tenant = ${tenant} AND version = ${version}`.pipe(
      Effect.flatMap(decodeVersions),
      Effect.map((rows) => Option.fromNullable(rows[0])),
      Effect.withSpan("PolicySets.get", { attributes: { tenant } })
    )

  const activate = Effect.fn("PolicySets.activate")(function* (input: {
    readonly tenant: string
    readonly version: number
    readonly activatedBy: string
  }) {
    yield* Effect.annotateCurrentSpan({ tenant: input.tenant, version: input.version })
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`INSERT INTO policy_active (tenant, version, activated_at, activated_by)
      SELECT tenant, version, ${now}, ${input.activatedBy} FROM policy_versions
      WHERE tenant = ${input.tenant} AND version = ${input.version}
      ON CONFLICT (tenant) DO UPDATE SET version = excluded.version,
        activated_at = excluded.activated_at, activated_by = excluded.activated_by
      RETURNING tenant`
    return rows.length > 0
  })

  const active = (tenant: string) =>
    sql`SELECT ${activeColumns} FROM policy_active a
      JOIN policy_versions v ON v.tenant = a.tenant AND v.version = a.version
      WHERE a.tenant = ${tenant}`.pipe(
      Effect.flatMap(decodeActive),
      Effect.map((rows) => Option.fromNullable(rows[0])),
      Effect.withSpan("PolicySets.active", { attributes: { tenant } })
    )

  const allActive = () =>
    sql`SELECT ${activeColumns} FROM policy_active a
      JOIN policy_versions v ON v.tenant = a.tenant AND v.version = a.version ORDER BY a.tenant`.pipe(
      Effect.flatMap(decodeActive),
      Effect.withSpan("PolicySets.allActive")
    )

  return { create, list, get, activate, active, allActive }
})

/** Tag of the policy sets service. `PolicySets.layer` requires a migrated `SqlClient`. */
export class PolicySets extends Context.Tag("@cordon/store/PolicySets")<PolicySets, PolicySetsService>() {
  static readonly layer: Layer.Layer<PolicySets, never, SqlClient.SqlClient> = Layer.effect(PolicySets, make)
}
