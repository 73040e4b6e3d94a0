/**
 * Tenant signing keys at rest (`signing_keys` table). Rows are plain data: the private key is stored only
 * wrapped (the identity layer wraps it with AES-256-GCM under the master key before it reaches here).
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/** One stored key. Times in epoch ms; `retiredAt` null while published. */
export interface SigningKeyRow {
  readonly tenant: string
  readonly kid: string
  readonly createdAt: number
  readonly activatedAt: number
  readonly retiredAt: number | null
  readonly compromised: boolean
  readonly wrapped: string
}

export interface SigningKeysService {
  /** The tenant's keys, oldest first. */
  readonly load: (tenant: string) => Effect.Effect<ReadonlyArray<SigningKeyRow>, SqlError>
  /** Inserts a new key (fails on a duplicate `(tenant, kid)`). */
  readonly save: (row: SigningKeyRow) => Effect.Effect<void, SqlError>
  /** Updates a key's lifecycle fields (`activatedAt`, `retiredAt`, `compromised`); the wrap never changes. */
  readonly update: (row: SigningKeyRow) => Effect.Effect<void, SqlError>
}

export const make: Effect.Effect<SigningKeysService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return {
    load: (tenant) =>
      sql<{
        tenant: string
        kid: string
        created_at: number
        activated_at: number
        retired_at: number | null
        compromised: number
        wrapped: string
      }>`SELECT * FROM signing_keys WHERE tenant = ${tenant} ORDER BY activated_at, kid`.pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            tenant: r.tenant,
            kid: r.kid,
            createdAt: r.created_at,
            activatedAt: r.activated_at,
            retiredAt: r.retired_at,
            compromised: r.compromised === 1,
            wrapped: r.wrapped
          }))
        )
      ),
    save: (row) =>
      sql`INSERT INTO signing_keys (tenant, kid, created_at, activated_at, retired_at, compromised, wrapped)
        VALUES (${row.tenant}, ${row.kid}, ${row.createdAt}, ${row.activatedAt}, ${row.retiredAt},
        ${row.compromised ? 1 : 0}, ${row.wrapped})`.pipe(Effect.asVoid),
    update: (row) =>
      sql`UPDATE signing_keys SET activated_at = ${row.activatedAt}, retired_at = ${row.retiredAt},
        compromised = ${row.compromised ? 1 : 0} WHERE tenant = ${row.tenant} AND kid = ${row.kid}`.pipe(
        Effect.asVoid
      )
  }
})

/** Tag of the signing-key store. `SigningKeys.layer` requires a migrated `SqlClient`. */
export class SigningKeys extends Context.Tag("@cordon/store/SigningKeys")<SigningKeys, SigningKeysService>() {
  static readonly layer: Layer.Layer<SigningKeys, never, SqlClient.SqlClient> = Layer.effect(
    SigningKeys,
    make
  )
}
