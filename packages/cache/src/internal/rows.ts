/**
 * Table definitions of a session cache file, and the plaintext layout of sealed values.
 *
 * Every table holds `(key TEXT PRIMARY KEY, value BLOB)`: the entry key stays in clear text (it is
 * an id chosen by the runtime, used for lookups and upserts); `value` is the sealed record
 * (see `Seal.ts`). Timestamps, task ids and metadata live inside the sealed record.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** Version of the layout below, stored in `cache_info`; files of another layout do not open. */
export const LAYOUT_VERSION = "2"

/** Tables holding entries; also the namespaces bound into each value's AAD. */
export const TABLES = ["summaries", "embeddings", "documents"] as const
export type Table = (typeof TABLES)[number]

/** DDL run on every open; `STRICT` tables make SQLite enforce the column types. */
export const DDL: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS cache_info (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
  ...TABLES.map((t) => `CREATE TABLE IF NOT EXISTS ${t} (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT`)
]

/** Metadata attached to an entry: a JSON object. */
export const Meta = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** Plaintext of a sealed summary (UTF-8 JSON). */
export const SummaryRecord = Schema.parseJson(
  Schema.Struct({ text: Schema.String, meta: Meta, createdAt: Schema.Number })
)

/** Plaintext of a sealed document (UTF-8 JSON). */
export const DocumentRecord = Schema.parseJson(
  Schema.Struct({
    source: Schema.String,
    content: Schema.String,
    taskId: Schema.NullOr(Schema.String),
    retrievedAt: Schema.Number
  })
)

/**
 * Header of a sealed embedding (UTF-8 JSON). The plaintext is `u32le(header length) | header |
 * vector as float32 little-endian`.
 */
export const EmbeddingHeader = Schema.parseJson(Schema.Struct({ meta: Meta, createdAt: Schema.Number }))

export const EntryRow = Schema.Struct({ key: Schema.String, value: Schema.Uint8ArrayFromSelf })

export const ValueRow = Schema.Struct({ value: Schema.Uint8ArrayFromSelf })

export const UsageRow = Schema.Struct({ entries: Schema.Number, bytes: Schema.Number })

export const CountsRow = Schema.Struct({
  summaries: Schema.Number,
  embeddings: Schema.Number,
  documents: Schema.Number
})

export const InfoRow = Schema.Struct({ value: Schema.String })
