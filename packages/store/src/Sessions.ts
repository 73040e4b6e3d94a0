/**
 * End-user sessions (`sessions` table). Every read by id takes the tenant too: another tenant's session
 * is "not found", never returned.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { StoreError } from "./Errors.js"
import { decodeRows } from "./internal/Rows.js"
import { Session } from "./Model.js"

/** Input of `Sessions.create`; `expiresAt` in epoch ms. */
export interface NewSession {
  readonly id: string
  readonly tenant: string
  readonly userId: string
  readonly expiresAt: number
}

/** The sessions service. Fails with `SqlError` when the database does (e.g. a duplicate id). */
export interface SessionsService {
  /** Opens a session (`status: "open"`, `createdAt` = now in epoch ms) and returns it. */
  readonly create: (input: NewSession) => Effect.Effect<Session, SqlError | StoreError>
  /** The tenant's session with this id, or `None` (also when it belongs to another tenant). */
  readonly get: (tenant: string, id: string) => Effect.Effect<Option.Option<Session>, SqlError | StoreError>
  /**
   * Ends the tenant's session (`status: "ended"`, `endedAt` = now). Idempotent: `true` only when this
   * call ended it; `false` when already ended, unknown or another tenant's.
   */
  readonly end: (tenant: string, id: string) => Effect.Effect<boolean, SqlError>
  /** Open sessions, of one tenant or of all, oldest first. */
  readonly listOpen: (tenant?: string) => Effect.Effect<ReadonlyArray<Session>, SqlError | StoreError>
}

const decode = decodeRows(Session, "sessions")

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<SessionsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql.literal(`id, tenant, user_id AS "userId", status, created_at AS "createdAt",
    expires_at AS "expiresAt", ended_at AS "endedAt"`)

  const get = Effect.fn("Sessions.get")(function* (tenant: string, id: string) {
    yield* Effect.annotateCurrentSpan({ tenant, session: id })
    const rows = yield* sql`SELECT ${columns} FROM sessions WHERE tenant = ${tenant} AND id = ${id}`.pipe(
      Effect.flatMap(decode)
    )
    return Option.fromNullable(rows[0])
  })

  const create = Effect.fn("Sessions.create")(function* (input: NewSession) {
    yield* Effect.annotateCurrentSpan({ tenant: input.tenant, session: input.id })
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`INSERT INTO sessions (id, tenant, user_id, status, created_at, expires_at)
      VALUES (${input.id}, ${input.tenant}, ${input.userId}, 'open', ${now}, ${input.expiresAt})
      RETURNING ${columns}`.pipe(Effect.flatMap(decode))
    const row = rows[0]
    if (row === undefined)
      return yield* new StoreError({ code: "E_STORE", reason: "session insert returned no row" })
    return row
  })

  const end = Effect.fn("Sessions.end")(function* (tenant: string, id: string) {
    yield* Effect.annotateCurrentSpan({ tenant, session: id })
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql`UPDATE sessions SET status = 'ended', ended_at = ${now}
      WHERE tenant = ${tenant} AND id = ${id} AND status = 'open' RETURNING id`
    return rows.length > 0
  })

  const listOpen = Effect.fn("Sessions.listOpen")(function* (tenant?: string) {
    const rows =
      tenant === undefined
        ? yield* sql`SELECT ${columns} FROM sessions WHERE status = 'open' ORDER BY created_at, id`
        : yield* sql`SELECT ${columns} FROM sessions WHERE tenant = ${tenant} AND status = 'open'
            ORDER BY created_at, id`
    return yield* decode(rows)
  })

  return { create, get, end, listOpen }
})

/** Tag of the sessions service. `Sessions.layer` requires a `SqlClient` with migrations applied. */
export class Sessions extends Context.Tag("@cordon/store/Sessions")<Sessions, SessionsService>() {
  static readonly layer: Layer.Layer<Sessions, never, SqlClient.SqlClient> = Layer.effect(Sessions, make)
}
