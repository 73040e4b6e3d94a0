/**
 * Opening a session cache file: connection, pragmas, tables, layout, dimension and key check.
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Effect from "effect/Effect"
import { decode, fail, sqlError } from "./checks.js"
import * as Rows from "./rows.js"
import type { Sealer } from "./Seal.js"

const KEY_CHECK = Buffer.from("cordon-cache key check v1", "utf8")

export interface ConnectOptions {
  readonly tenant: string
  readonly session: string
  readonly dimension: number
}

const info = (sql: SqliteClient.SqliteClient, name: string) =>
  Effect.flatMap(sql`SELECT value FROM cache_info WHERE name = ${name}`, (rows) =>
    decode(Rows.InfoRow)(rows[0])
  )

/**
 * Connects to `path` (in the current scope), creates the tables, records layout, dimension and a
 * sealed key check on first open, and verifies them: another layout or a key check that does not
 * open with this session's key (wrong key, file of another session) → `corrupt`; another dimension
 * → `dimension`.
 */
export const connect = (path: string, options: ConnectOptions, sealer: Sealer) =>
  Effect.gen(function* () {
    const sql = yield* SqliteClient.make({
      filename: path,
      spanAttributes: { "cordon.tenant": options.tenant, "cordon.session": options.session }
    }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make),
      // better-sqlite3 throws synchronously (e.g. "file is not a database") inside `make`
      Effect.catchAllDefect((cause) => fail("sql", cause))
    )
    yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    yield* sql.unsafe("PRAGMA secure_delete = ON")
    const check = sealer.seal("cache_info", "key-check", KEY_CHECK).toString("base64")
    yield* sql.withTransaction(
      Effect.gen(function* () {
        for (const ddl of Rows.DDL) yield* sql.unsafe(ddl)
        yield* sql`INSERT INTO cache_info (name, value) VALUES ('layout', ${Rows.LAYOUT_VERSION}),
          ('dimension', ${String(options.dimension)}), ('key-check', ${check}) ON CONFLICT (name) DO NOTHING`
      })
    )
    if ((yield* info(sql, "layout")).value !== Rows.LAYOUT_VERSION) return yield* fail("corrupt")
    if ((yield* info(sql, "dimension")).value !== String(options.dimension)) return yield* fail("dimension")
    const stored = Buffer.from((yield* info(sql, "key-check")).value, "base64")
    const opened = yield* sealer.open("cache_info", "key-check", stored)
    if (!opened.equals(KEY_CHECK)) return yield* fail("corrupt")
    return sql
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(sqlError(e))))
