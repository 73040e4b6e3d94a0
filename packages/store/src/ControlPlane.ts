/**
 * The control-plane SQLite database: one serialised connection (`@effect/sql-sqlite-node`, better-sqlite3),
 * WAL journal, 5 s busy timeout, migrations from `Migrations` applied when the layer is built.
 *
 * One process (one thread) should own a database file: two writers on one file end in `SQLITE_BUSY`.
 *
 * @module
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { SqlClient } from "@effect/sql"
import type { MigrationError } from "@effect/sql/Migrator"
import type { SqlError } from "@effect/sql/SqlError"
import { type SqliteClient, SqliteMigrator } from "@effect/sql-sqlite-node"
import type { ConfigError } from "effect/ConfigError"
import { Effect, Layer } from "effect"
import { AuditLog } from "./AuditLog.js"
import { Credentials } from "./Credentials.js"
import { Jobs } from "./Jobs.js"
import * as SqliteDriver from "./internal/SqliteDriver.js"
import { migrations } from "./Migrations.js"
import { Sessions } from "./Sessions.js"
import { SigningKeys } from "./SigningKeys.js"
import { Tasks } from "./Tasks.js"
import { Tenants } from "./Tenants.js"
import { TraceStore } from "./TraceStore.js"

/** Busy timeout in milliseconds. */
export const BUSY_TIMEOUT_MS = 5000

/** Errors that can fail building the database layer. */
export type ControlPlaneError = SqlError | MigrationError | ConfigError

const Pragmas = Layer.effectDiscard(
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  })
)

const Migrate = SqliteMigrator.layer({ loader: SqliteMigrator.fromRecord(migrations) }).pipe(
  Layer.provide(NodeContext.layer),
  Layer.provide(Pragmas)
)

/**
 * Opens (creating if needed) the database at `filename`, sets WAL and the busy timeout, and applies any
 * migration not yet recorded. Provides `SqlClient.SqlClient` and `SqliteClient.SqliteClient`; the file is
 * closed when the layer's scope closes.
 */
export const layer = (options: {
  readonly filename: string
}): Layer.Layer<
  SqlClient.SqlClient | SqliteClient.SqliteClient | SqliteDriver.SqliteHandle,
  ControlPlaneError
> => Migrate.pipe(Layer.provideMerge(SqliteDriver.layer({ filename: options.filename })))

/** A fresh in-memory database (`:memory:`) with migrations applied: for tests. */
export const layerMemory: Layer.Layer<
  SqlClient.SqlClient | SqliteClient.SqliteClient | SqliteDriver.SqliteHandle,
  ControlPlaneError
> = layer({ filename: ":memory:" })

/** Every table service of this package; requires a migrated `SqlClient` and its `SqliteHandle`. */
export type Services = Tenants | Sessions | Tasks | Jobs | Credentials | AuditLog | TraceStore | SigningKeys

/** The table services (`Tenants`, `Sessions`, `Tasks`, `Jobs`, `Credentials`, `AuditLog`, `TraceStore`, `SigningKeys`). */
export const services: Layer.Layer<Services, never, SqlClient.SqlClient | SqliteDriver.SqliteHandle> =
  Layer.mergeAll(
    Tenants.layer,
    Sessions.layer,
    Tasks.layer,
    Jobs.layer,
    Credentials.layer,
    AuditLog.layer,
    TraceStore.layer,
    SigningKeys.layer
  )

/** `layer(options)` plus every table service over it. */
export const layerWithServices = (options: {
  readonly filename: string
}): Layer.Layer<
  Services | SqlClient.SqlClient | SqliteClient.SqliteClient | SqliteDriver.SqliteHandle,
  ControlPlaneError
> => services.pipe(Layer.provideMerge(layer(options)))
