/**
 * Minted task credentials (`credentials` table), tracked by JWT `jti` so that teardown can revoke every
 * credential of a task and the revocation list can be rebuilt. The token itself is never stored.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer } from "effect"

/** Input of `Credentials.record`; `exp` in epoch seconds (the token's `exp` claim, RFC 7519 §4.1.4). */
export interface NewCredential {
  readonly jti: string
  readonly tenant: string
  readonly session: string
  readonly task: string
  readonly agent: string
  readonly exp: number
}

/** The credentials service. Fails with `SqlError` when the database does (e.g. a duplicate `jti`). */
export interface CredentialsService {
  /** Records a minted credential (`mintedAt` = now in epoch ms). */
  readonly record: (input: NewCredential) => Effect.Effect<void, SqlError>
  /**
   * Revokes the given `jti`s at `nowMs` (epoch ms) with `reason`. Only credentials not yet revoked are
   * touched (the first revocation's time and reason are kept). Returns the `jti`s revoked by this call.
   */
  readonly revoke: (
    jtis: ReadonlyArray<string>,
    reason: string,
    nowMs: number
  ) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /** Revokes every not-yet-revoked credential of the task, now. Returns the `jti`s revoked by this call. */
  readonly revokeTask: (task: string, reason: string) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /** Credentials not revoked with `exp > nowSec` (epoch seconds), of all tenants or of one. */
  readonly liveCount: (nowSec: number, tenant?: string) => Effect.Effect<number, SqlError>
  /**
   * The tenant's revoked `jti`s (for its revocation list). With `nowSec`, only those whose `exp` is still
   * in the future (an expired token is refused anyway).
   */
  readonly listRevoked: (tenant: string, nowSec?: number) => Effect.Effect<ReadonlyArray<string>, SqlError>
  /**
   * Every tenant's revoked, unexpired credentials with their `exp` (epoch seconds): to rebuild the
   * in-memory revocation list at boot.
   */
  readonly listRevokedAll: (
    nowSec: number
  ) => Effect.Effect<ReadonlyArray<{ jti: string; tenant: string; exp: number }>, SqlError>
  /**
   * The tenant's credentials matching every given selector (`task` = root task id, `session`, `agent`,
   * `jti`), with `exp`; with none, all of the tenant's. For revocation by scope; never crosses tenants.
   */
  readonly select: (selector: {
    readonly tenant: string
    readonly jti?: string
    readonly task?: string
    readonly session?: string
    readonly agent?: string
  }) => Effect.Effect<ReadonlyArray<{ jti: string; exp: number; revoked: boolean }>, SqlError>
}

/** `jti`s per UPDATE statement (well under SQLite's bound-parameter limit). */
const CHUNK = 500

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<CredentialsService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  // The hot path of every handoff: one span without a captured call-site stack, the time read
  // synchronously from the ambient `Clock`, and the (prepared, cached) INSERT.
  const record = (input: NewCredential): Effect.Effect<void, SqlError> =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      return sql`INSERT INTO credentials (jti, tenant, session, task, agent, exp, minted_at)
      VALUES (${input.jti}, ${input.tenant}, ${input.session}, ${input.task}, ${input.agent}, ${input.exp},
      ${now})`
    }).pipe(
      Effect.asVoid,
      Effect.withSpan("Credentials.record", {
        attributes: { tenant: input.tenant, session: input.session, task: input.task },
        captureStackTrace: false
      })
    )

  const revoke = Effect.fn("Credentials.revoke")(function* (
    jtis: ReadonlyArray<string>,
    reason: string,
    nowMs: number
  ) {
    const unique = [...new Set(jtis)]
    const chunks: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < unique.length; i += CHUNK) chunks.push(unique.slice(i, i + CHUNK))
    const revoked = yield* sql.withTransaction(
      Effect.forEach(
        chunks,
        (chunk) =>
          sql<{ jti: string }>`UPDATE credentials SET revoked_at = ${nowMs}, revoke_reason = ${reason}
          WHERE revoked_at IS NULL AND jti IN ${sql.in(chunk)} RETURNING jti`
      )
    )
    return revoked.flat().map((r) => r.jti)
  })

  const revokeTask = Effect.fn("Credentials.revokeTask")(function* (task: string, reason: string) {
    yield* Effect.annotateCurrentSpan({ task })
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql<{
      jti: string
    }>`UPDATE credentials SET revoked_at = ${now}, revoke_reason = ${reason}
      WHERE task = ${task} AND revoked_at IS NULL RETURNING jti`
    return rows.map((r) => r.jti)
  })

  const liveCount = Effect.fn("Credentials.liveCount")(function* (nowSec: number, tenant?: string) {
    const rows =
      tenant === undefined
        ? yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM credentials
            WHERE revoked_at IS NULL AND exp > ${nowSec}`
        : yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM credentials
            WHERE tenant = ${tenant} AND revoked_at IS NULL AND exp > ${nowSec}`
    return rows[0]?.n ?? 0
  })

  const listRevoked = Effect.fn("Credentials.listRevoked")(function* (tenant: string, nowSec?: number) {
    yield* Effect.annotateCurrentSpan({ tenant })
    const rows =
      nowSec === undefined
        ? yield* sql<{ jti: string }>`SELECT jti FROM credentials
            WHERE tenant = ${tenant} AND revoked_at IS NOT NULL ORDER BY revoked_at, jti`
        : yield* sql<{ jti: string }>`SELECT jti FROM credentials
            WHERE tenant = ${tenant} AND revoked_at IS NOT NULL AND exp > ${nowSec} ORDER BY revoked_at, jti`
    return rows.map((r) => r.jti)
  })

  const listRevokedAll = Effect.fn("Credentials.listRevokedAll")(function* (nowSec: number) {
    return yield* sql<{ jti: string; tenant: string; exp: number }>`SELECT jti, tenant, exp FROM credentials
      WHERE revoked_at IS NOT NULL AND exp > ${nowSec} ORDER BY revoked_at, jti`
  })

  const select: CredentialsService["select"] = Effect.fn("Credentials.select")(function* (selector) {
    yield* Effect.annotateCurrentSpan({ tenant: selector.tenant })
    const conditions = [sql`tenant = ${selector.tenant}`]
    if (selector.jti !== undefined) conditions.push(sql`jti = ${selector.jti}`)
    if (selector.task !== undefined) conditions.push(sql`task = ${selector.task}`)
    if (selector.session !== undefined) conditions.push(sql`session = ${selector.session}`)
    if (selector.agent !== undefined) conditions.push(sql`agent = ${selector.agent}`)
    const rows = yield* sql<{ jti: string; exp: number; revoked: number }>`SELECT jti, exp,
      (revoked_at IS NOT NULL) AS revoked FROM credentials WHERE ${sql.and(conditions)} ORDER BY minted_at, jti`
    return rows.map((r) => ({ jti: r.jti, exp: r.exp, revoked: r.revoked === 1 }))
  })

  return { record, revoke, revokeTask, liveCount, listRevoked, listRevokedAll, select }
})

/** Tag of the credentials service. `Credentials.layer` requires a `SqlClient` with migrations applied. */
export class Credentials extends Context.Tag("@cordon/store/Credentials")<Credentials, CredentialsService>() {
  static readonly layer: Layer.Layer<Credentials, never, SqlClient.SqlClient> = Layer.effect(
    Credentials,
    make
  )
}
