/**
 * Table definitions of a session cache file, every SQL statement the cache runs, and the
 * plaintext layout of sealed values.
 *
 * Every sealed value's plaintext is one frame (`records.ts`): `u32le(header length) | header JSON |
 * body`. Every entry table holds `(id INTEGER PRIMARY KEY, key TEXT, value BLOB, expires_at
 * INTEGER, task_tag BLOB)`: the entry key stays in clear text (an id chosen by the runtime);
 * `value` is the sealed record (see `Seal.ts`); `expires_at` (epoch ms) and `task_tag` (a keyed
 * hash of the task id, never the id) exist only so that expired or tainted entries can be deleted
 * without decrypting everything. The sealed record carries the authoritative expiry and provenance.
 *
 * Keys are unique per table, but not through a SQL index: the file has one owning connection that
 * loads every key with its row id at open (a file holding a key twice does not open), so lookups
 * and upserts go by row id and a write touches one b-tree, appended in row id order.
 *
 * No statement is built from input: all SQL below is fixed at module load from the constant
 * {@link TABLES}, and values are bound as parameters.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** Version of the layout below, stored in `cache_info`; files of another layout do not open. */
export const LAYOUT_VERSION = "4"

/** Tables holding entries; also the namespaces bound into each value's AAD. */
export const TABLES = ["summaries", "embeddings", "documents"] as const
export type Table = (typeof TABLES)[number]

/** DDL run on every open; `STRICT` tables make SQLite enforce the column types. */
export const DDL: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS cache_info (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
  ...TABLES.map(
    (t) =>
      `CREATE TABLE IF NOT EXISTS ${t} (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, expires_at INTEGER NOT NULL, task_tag BLOB) STRICT`
  )
]

/** The statements run against one entry table (rows are addressed by `id`, see the module doc). */
export interface TableSql {
  readonly get: string
  readonly insert: string
  readonly update: string
  readonly list: string
  readonly sizes: string
  readonly expired: string
  readonly byTask: string
}

const tableSql = (t: Table): TableSql => ({
  get: `SELECT value FROM ${t} WHERE id = ?`,
  insert: `INSERT INTO ${t} (key, value, expires_at, task_tag) VALUES (?, ?, ?, ?)`,
  update: `UPDATE ${t} SET value = ?, expires_at = ?, task_tag = ? WHERE id = ?`,
  list: `SELECT key, value FROM ${t}`,
  sizes: `SELECT id, key, length(value) AS bytes, expires_at AS expiresAt FROM ${t}`,
  expired: `DELETE FROM ${t} WHERE expires_at <= ? RETURNING key`,
  byTask: `DELETE FROM ${t} WHERE task_tag = ? RETURNING key`
})

/** Statements per entry table. */
export const TABLE_SQL: Readonly<Record<Table, TableSql>> = {
  summaries: tableSql("summaries"),
  embeddings: tableSql("embeddings"),
  documents: tableSql("documents")
}

/** Statements on `cache_info` and the schema. */
export const INFO_SQL = {
  schema: "SELECT type, name FROM sqlite_schema",
  get: "SELECT value FROM cache_info WHERE name = ?",
  init: "INSERT INTO cache_info (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
} as const

/** Connection settings, run on every open. */
export const PRAGMAS: ReadonlyArray<string> = [
  "journal_mode = WAL",
  "busy_timeout = 5000",
  "secure_delete = ON",
  "trusted_schema = OFF"
]

/** Every SQL text the cache can run (DDL, statements, pragmas): the hardening test's allow-list. */
export const ALL_SQL: ReadonlyArray<string> = [
  ...DDL,
  ...TABLES.flatMap((t) => Object.values(TABLE_SQL[t])),
  ...Object.values(INFO_SQL),
  ...PRAGMAS
]

/** Objects a cache file may contain: its tables and the primary-key index of `cache_info`. */
export const isExpectedSchemaObject = (type: string, name: string): boolean =>
  type === "table"
    ? name === "cache_info" || (TABLES as ReadonlyArray<string>).includes(name)
    : type === "index" && name === "sqlite_autoindex_cache_info_1"

/** Metadata attached to an entry: a JSON object. */
export const Meta = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * Provenance in a sealed summary or document header. Their content hash is not stored: it is the
 * hash of the (authenticated) body, computed when the entry is read.
 */
export const StoredProvenance = Schema.Struct({
  source: Schema.NullOr(Schema.String),
  taskId: Schema.NullOr(Schema.String),
  retrievedAt: Schema.Number,
  trust: Schema.Literal("trusted", "untrusted")
})

/** Provenance in a sealed embedding header, with the hash of the vector as given. */
export const ProvenanceRecord = Schema.Struct({ ...StoredProvenance.fields, contentHash: Schema.String })

/** Header of a sealed summary; the body is the text (UTF-8). */
export const SummaryHeader = Schema.parseJson(
  Schema.Struct({
    meta: Meta,
    createdAt: Schema.Number,
    expiresAt: Schema.Number,
    provenance: StoredProvenance
  })
)

/** Header of a sealed document; the body is the content (UTF-8), the source is in the provenance. */
export const DocumentHeader = Schema.parseJson(
  Schema.Struct({ expiresAt: Schema.Number, provenance: StoredProvenance })
)

/** Header of a sealed embedding; the body is the vector as float32 little-endian. */
export const EmbeddingHeader = Schema.parseJson(
  Schema.Struct({
    meta: Meta,
    createdAt: Schema.Number,
    expiresAt: Schema.Number,
    provenance: ProvenanceRecord
  })
)
