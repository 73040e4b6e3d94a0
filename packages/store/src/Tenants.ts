/**
 * Tenants (`tenants` table): the customers whose work is isolated from one another.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { StoreError } from "./Errors.js"
import { decodeRows } from "./internal/Rows.js"
import { Tenant, type TenantStatus } from "./Model.js"

/** The tenants service. Fails with `SqlError` when the database does; `StoreError` on a corrupt row. */
export interface TenantsService {
  /**
   * Creates the tenant (status `active`, `createdAt` = now in epoch ms) or renames an existing one;
   * an existing tenant keeps its status and `createdAt`. Returns the stored row.
   */
  readonly upsert: (input: {
    readonly id: string
    readonly name: string
  }) => Effect.Effect<Tenant, SqlError | StoreError>
  /** The tenant, or `None`. */
  readonly get: (id: string) => Effect.Effect<Option.Option<Tenant>, SqlError | StoreError>
  /** Sets the status; `true` when the tenant exists. */
  readonly setStatus: (id: string, status: TenantStatus) => Effect.Effect<boolean, SqlError>
  /** Every tenant with `status` (e.g. the suspended ones, at boot). */
  readonly listByStatus: (status: TenantStatus) => Effect.Effect<ReadonlyArray<Tenant>, SqlError | StoreError>
}

const decode = decodeRows(Tenant, "tenants")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<TenantsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const select = (id: string) =>
    sql`SELECT id, name, status, created_at AS "createdAt" FROM tenants WHERE id = ${id}`.pipe(
      Effect.flatMap(decode),
      Effect.map((rows) => Option.fromNullable(rows[0]))
    )

  const upsert = Effect.fn("Tenants.upsert")(function* (input: {
    readonly id: string
    readonly name: string
  }) {
    yield* Effect.annotateCurrentSpan({ tenant: input.id })
    const now = yield* Clock.currentTimeMillis
    yield* sql`INSERT INTO tenants (id, name, status, created_at) VALUES (${input.id}, ${input.name}, 'active', ${now})
      ON CONFLICT (id) DO UPDATE SET name = excluded.name`
    const row = yield* select(input.id)
    return yield* Option.match(row, {
      onNone: () => Effect.fail(new StoreError({ code: "E_STORE", reason: "tenant vanished after upsert" })),
      onSome: Effect.succeed
    })
  })

  const get = (id: string) => select(id).pipe(Effect.withSpan("Tenants.get", { attributes: { tenant: id } }))

  const setStatus = Effect.fn("Tenants.setStatus")(function* (id: string, status: TenantStatus) {
    yield* Effect.annotateCurrentSpan({ tenant: id, status })
    const rows = yield* sql`UPDATE tenants SET status = ${status} WHERE id = ${id} RETURNING id`
    return rows.length > 0
  })

  const listByStatus = (status: TenantStatus) =>
    sql`SELECT id, name, status, created_at AS "createdAt" FROM tenants WHERE status = ${status}
      ORDER BY id`.pipe(Effect.flatMap(decode))

  return { upsert, get, setStatus, listByStatus }
})

/** Tag of the tenants service. `Tenants.layer` requires a `SqlClient` with migrations applied. */
export class Tenants extends Context.Tag("@cordon/store/Tenants")<Tenants, TenantsService>() {
  static readonly layer: Layer.Layer<Tenants, never, SqlClient.SqlClient> = Layer.effect(Tenants, make)
}
