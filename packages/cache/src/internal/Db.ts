/**
 * The connection to one session cache file: better-sqlite3 used directly (the file has one owning
 * thread, so the cache runs prepared statements synchronously), pragmas, schema check, tables,
 * layout, dimension and key check.
 *
 * @internal
 */
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import { CacheError, QuotaExceeded, SecretInCacheError } from "../Errors.js"
import * as Rows from "./rows.js"
import type { Sealer } from "./Seal.js"

const KEY_CHECK = Buffer.from("cordon-cache key check v1", "utf8")

export type Statement = Database.Statement<Array<unknown>, unknown>

/** Prepared statements of one entry table (see `rows.ts` for their SQL). */
export type TableStatements = { readonly [K in keyof Rows.TableSql]: Statement }

export interface Db {
  readonly db: Database.Database
  readonly tables: Readonly<Record<Rows.Table, TableStatements>>
}

export interface DbOptions {
  readonly dimension: number
  readonly maxFileBytes: number | undefined
}

const isFull = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as { code?: unknown }).code === "SQLITE_FULL"

/**
 * A failed write: typed errors pass through; `SQLITE_FULL` → `QuotaExceeded` reason `disk`
 * (SQLite has rolled the statement back); anything else → `CacheError` `sql`.
 */
export const writeFailure = (cause: unknown): CacheError | QuotaExceeded | SecretInCacheError =>
  cause instanceof CacheError || cause instanceof QuotaExceeded || cause instanceof SecretInCacheError
    ? cause
    : isFull(cause)
      ? new QuotaExceeded({ reason: "disk", scope: "session" })
      : new CacheError({ reason: "sql", cause })

/** A failed read or delete: `CacheError` (`sql` unless it already is one). */
export const readFailure = (cause: unknown): CacheError =>
  cause instanceof CacheError ? cause : new CacheError({ reason: "sql", cause })

const infoValue = (db: Database.Database, name: string): string => {
  const row = db.prepare(Rows.INFO_SQL.get).get(name) as { value?: unknown } | undefined
  if (typeof row?.value !== "string") throw new CacheError({ reason: "corrupt" })
  return row.value
}

const prepareTable = (db: Database.Database, table: Rows.Table): TableStatements => {
  const sql = Rows.TABLE_SQL[table]
  return {
    get: db.prepare(sql.get),
    insert: db.prepare(sql.insert),
    update: db.prepare(sql.update),
    list: db.prepare(sql.list),
    sizes: db.prepare(sql.sizes),
    expired: db.prepare(sql.expired),
    byTask: db.prepare(sql.byTask)
  }
}

/**
 * Opens `path` (which must exist), applies the pragmas, refuses a file holding any schema object
 * the cache does not create (a trigger or view planted in a copied file never runs), creates the
 * tables, records layout, dimension and a sealed key check on first open, and verifies them:
 * another layout, a foreign object, or a key check that does not open with this session's key
 * (wrong key, file of another session or tenant) → `corrupt`; another dimension → `dimension`;
 * SQLite failures → `sql`. `maxFileBytes` caps the file through `PRAGMA max_page_count`.
 */
export const openDb = (path: string, options: DbOptions, sealer: Sealer): Effect.Effect<Db, CacheError> =>
  Effect.try({
    try: () => {
      const db = new Database(path, { fileMustExist: true })
      try {
        for (const pragma of Rows.PRAGMAS) db.pragma(pragma)
        if (options.maxFileBytes !== undefined) {
          const pageSize = Number(db.pragma("page_size", { simple: true }))
          // the only SQL text not fixed at load: an integer computed from a validated integer option
          db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxFileBytes / pageSize))}`)
        }
        const objects = db.prepare(Rows.INFO_SQL.schema).all() as Array<{ type: string; name: string }>
        if (!objects.every((o) => Rows.isExpectedSchemaObject(o.type, o.name)))
          throw new CacheError({ reason: "corrupt" })
        const check = sealer.seal("cache_info", "key-check", KEY_CHECK).toString("base64")
        db.transaction(() => {
          for (const ddl of Rows.DDL) db.exec(ddl)
          const init = db.prepare(Rows.INFO_SQL.init)
          init.run("layout", Rows.LAYOUT_VERSION)
          init.run("dimension", String(options.dimension))
          init.run("key-check", check)
        })()
        if (infoValue(db, "layout") !== Rows.LAYOUT_VERSION) throw new CacheError({ reason: "corrupt" })
        if (infoValue(db, "dimension") !== String(options.dimension))
          throw new CacheError({ reason: "dimension" })
        const opened = Effect.runSync(
          Effect.either(
            sealer.open("cache_info", "key-check", Buffer.from(infoValue(db, "key-check"), "base64"))
          )
        )
        if (opened._tag === "Left" || !opened.right.equals(KEY_CHECK))
          throw new CacheError({ reason: "corrupt" })
        return {
          db,
          tables: {
            summaries: prepareTable(db, "summaries"),
            embeddings: prepareTable(db, "embeddings"),
            documents: prepareTable(db, "documents")
          }
        }
      } catch (cause) {
        db.close()
        throw cause
      }
    },
    catch: readFailure
  })
