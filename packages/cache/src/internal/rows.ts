/**
 * Table definitions and row schemas of a session cache file.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** Version of the layout below, stored in `cache_info`. */
export const LAYOUT_VERSION = "1"

/** DDL run on every open; `STRICT` tables make SQLite enforce the column types. */
export const DDL: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS cache_info (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS summaries (key TEXT PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL, meta TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, source TEXT NOT NULL, content TEXT NOT NULL, task_id TEXT, retrieved_at INTEGER NOT NULL) STRICT"
]

/** Metadata attached to an entry: a JSON object. */
export const Meta = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const MetaJson = Schema.parseJson(Meta)

export const SummaryRow = Schema.Struct({
  key: Schema.String,
  text: Schema.String,
  meta: MetaJson,
  created_at: Schema.Number
})

export const EmbeddingRow = Schema.Struct({
  key: Schema.String,
  vector: Schema.Uint8ArrayFromSelf,
  meta: MetaJson
})

export const DocumentRow = Schema.Struct({
  key: Schema.String,
  source: Schema.String,
  content: Schema.String,
  task_id: Schema.NullOr(Schema.String),
  retrieved_at: Schema.Number
})

export const CountsRow = Schema.Struct({
  summaries: Schema.Number,
  embeddings: Schema.Number,
  documents: Schema.Number
})

export const InfoRow = Schema.Struct({ value: Schema.String })
