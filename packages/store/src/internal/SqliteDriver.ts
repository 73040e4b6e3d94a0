/**
 * The control plane's SQLite connection: one better-sqlite3 handle behind an `@effect/sql` client (the
 * `SqlClient` and `SqliteClient` tags, as `@effect/sql-sqlite-node` provides them), plus
 * {@link SqliteHandle}, which runs a synchronous function on the same handle under the same lock.
 *
 * One connection, one lock (a semaphore of one permit): a transaction holds the lock from `BEGIN` to
 * `COMMIT`/`ROLLBACK`, a single statement or an `exclusive` call holds it only while it runs, so nothing
 * runs inside another fiber's open transaction. Prepared statements are cached by SQL text (at most
 * {@link PrepareCacheSize}, least recently used evicted).
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import { SqliteClient } from "@effect/sql-sqlite-node"
import Sqlite from "better-sqlite3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"

/** Prepared statements kept per connection. */
export const PrepareCacheSize = 200

/** Synchronous access to the control-plane connection, serialised with every other use of it. */
export interface SqliteHandleShape {
  /**
   * Runs `f` on the connection, never inside another fiber's open transaction (it waits for the lock
   * then), inside the calling fiber's own transaction if it has one. `f` must be synchronous; a throw
   * fails with `SqlError`.
   */
  readonly exclusive: <A>(f: (db: Sqlite.Database) => A) => Effect.Effect<A, SqlError>
  /** The statement for `sql`, prepared once per connection (cached by text). */
  readonly prepare: (sql: string) => Sqlite.Statement
}

/** Tag of {@link SqliteHandleShape}. */
export class SqliteHandle extends Context.Tag("@cordon/store/SqliteHandle")<
  SqliteHandle,
  SqliteHandleShape
>() {}

const sqlError = (message: string) => (cause: unknown) => new SqlError({ cause, message })

/**
 * Opens `filename` (mode 0600, WAL journal; unless it is `:memory:`), closed with the layer's scope. Provides
 * `SqlClient`, `SqliteClient` and {@link SqliteHandle} over the one connection.
 */
export const layer = (options: {
  readonly filename: string
}): Layer.Layer<Client.SqlClient | SqliteClient.SqliteClient | SqliteHandle, SqlError> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(
        Effect.try({ try: () => new Sqlite(options.filename), catch: sqlError("Failed to open database") }),
        (handle) => Effect.sync(() => handle.close())
      )
      // Owner-only, before WAL creates its `-wal` / `-shm` files (SQLite gives them the database's mode).
      // Best effort: only the file's owner may change its mode (a reader such as `cordon audit verify` run
      // by another account leaves it as it is).
      if (options.filename !== ":memory:") {
        try {
          fs.chmodSync(options.filename, 0o600)
        } catch {
          // Not the owner: nothing to restrict from here.
        }
      }
      yield* Effect.try({ try: () => db.pragma("journal_mode = WAL"), catch: sqlError("Failed to set WAL") })

      const statements = new Map<string, Sqlite.Statement>()
      const prepare = (sql: string): Sqlite.Statement => {
        const cached = statements.get(sql)
        if (cached !== undefined) {
          statements.delete(sql)
          statements.set(sql, cached)
          return cached
        }
        const statement = db.prepare(sql)
        statements.set(sql, statement)
        if (statements.size > PrepareCacheSize) {
          const oldest = statements.keys().next()
          if (oldest.done !== true) statements.delete(oldest.value)
        }
        return statement
      }

      const runStatement = (statement: Sqlite.Statement, params: ReadonlyArray<unknown>, raw: boolean) =>
        Effect.withFiberRuntime<ReadonlyArray<unknown> | unknown, SqlError>((fiber) => {
          const safe = Context.get(fiber.currentContext, Client.SafeIntegers)
          try {
            statement.safeIntegers(safe)
            if (statement.reader) return Effect.succeed(statement.all(...params))
            const result = statement.run(...params)
            return Effect.succeed(raw ? result : [])
          } catch (cause) {
            return Effect.fail(sqlError("Failed to execute statement")(cause))
          }
        })

      const run = (sql: string, params: ReadonlyArray<unknown>, raw = false) =>
        Effect.flatMap(
          Effect.try({ try: () => prepare(sql), catch: sqlError("Failed to prepare statement") }),
          (statement) => runStatement(statement, params, raw)
        )

      const connection: Connection = {
        execute: (sql, params, transformRows) => {
          const rows = run(sql, params) as Effect.Effect<ReadonlyArray<object>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        },
        executeRaw: (sql, params) => run(sql, params, true),
        executeValues: (sql, params) =>
          Effect.try({
            try: () => {
              const statement = prepare(sql)
              if (!statement.reader) {
                statement.run(...params)
                return []
              }
              try {
                return statement.raw(true).all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
              } finally {
                statement.raw(false)
              }
            },
            catch: sqlError("Failed to execute statement")
          }),
        executeUnprepared: (sql, params, transformRows) => {
          const rows = Effect.flatMap(
            Effect.try({ try: () => db.prepare(sql), catch: sqlError("Failed to prepare statement") }),
            (statement) => runStatement(statement, params, false)
          ) as Effect.Effect<ReadonlyArray<object>, SqlError>
          return transformRows === undefined ? rows : Effect.map(rows, transformRows)
        },
        executeStream: () => Effect.dieMessage("executeStream is not supported") as never
      }

      const lock = yield* Effect.makeSemaphore(1)
      const acquirer = lock.withPermits(1)(Effect.succeed(connection))
      const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
        Effect.as(
          Effect.zipRight(
            restore(lock.take(1)),
            Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, lock.release(1)))
          ),
          connection
        )
      )
      const client = yield* Client.make({
        acquirer,
        compiler: Statement.makeCompilerSqlite(),
        transactionAcquirer,
        spanAttributes: [["db.system.name", "sqlite"]]
      })
      const sqlite: SqliteClient.SqliteClient = Object.assign(client, {
        [SqliteClient.TypeId]: SqliteClient.TypeId,
        config: { filename: options.filename },
        export: Effect.try({ try: () => db.serialize(), catch: sqlError("Failed to export database") }),
        backup: (destination: string) =>
          Effect.tryPromise({
            try: () => db.backup(destination),
            catch: sqlError("Failed to back up database")
          }),
        loadExtension: () =>
          Effect.fail(new SqlError({ message: "Extensions are not loaded into the control plane" })),
        updateValues: undefined as never
      }) as unknown as SqliteClient.SqliteClient

      // `f` is synchronous, so it only has to wait for a transaction another fiber has open on the
      // connection (BEGIN executed: `db.inTransaction`). A fiber inside its own transaction runs `f` in it.
      const exclusive = <A>(f: (handle: Sqlite.Database) => A): Effect.Effect<A, SqlError> => {
        const call = Effect.try({ try: () => f(db), catch: sqlError("Failed to execute statement") })
        return Effect.suspend(() =>
          db.inTransaction
            ? Effect.flatMap(Effect.serviceOption(Client.TransactionConnection), (tx) =>
                Option.isSome(tx) ? call : lock.withPermits(1)(call)
              )
            : call
        )
      }

      return Context.make(SqliteClient.SqliteClient, sqlite).pipe(
        Context.add(Client.SqlClient, client),
        Context.add(SqliteHandle, { exclusive, prepare })
      )
    })
  ).pipe(Layer.provide(Reactivity.layer))
