/**
 * The audit log's hash chain, as pure functions, so an exported log can be verified without the
 * database (e.g. by `cordon audit verify`).
 *
 * Record `n` stores `prev_hash` = hash of record `n - 1` (64 zeros for `seq` 1) and
 * `hash` = lower-case hex SHA-256 over the UTF-8 bytes of the canonical JSON (RFC 8785 style: keys sorted
 * by UTF-16 code units, no whitespace) of the record's columns, snake_case as stored, minus `hash`:
 * `seq, ts, tenant, session, workload, intent, actor_chain_hash, chain_depth, action, resource, decision,
 * error_code, reason, policy_version, jti_hash, prev_hash`.
 *
 * @module
 */
import { createHash } from "node:crypto"
import type { AuditRecord } from "./Model.js"

/** `prev_hash` of the first record (`seq` 1): 64 zeros. */
export const GENESIS_HASH = "0".repeat(64)

/** Why a record fails verification: its own hash, its link to the previous record, or a missing `seq`. */
export type AuditFault = "hash" | "link" | "gap"

/**
 * Outcome of verifying a chain. `records` is the number of records examined. `firstBad` is absent when
 * `valid`; for `gap` its `seq` is the first sequence number that is missing or out of order, otherwise
 * the `seq` of the bad record.
 */
export interface AuditVerification {
  readonly valid: boolean
  readonly records: number
  readonly firstBad?: { readonly seq: number; readonly reason: AuditFault }
}

/** The columns covered by `hash`, in their stored (snake_case) names. */
export type AuditChainFields = Readonly<Record<string, string | number | null>>

/**
 * Canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no insignificant whitespace,
 * strings and numbers serialised as `JSON.stringify` does (which is what RFC 8785 prescribes for them).
 * Object members whose value is `undefined` are omitted.
 */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    let out = "{"
    for (const key of keys) {
      const member = record[key]
      if (member === undefined) continue
      out += `${out.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(member)}`
    }
    return `${out}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** The hashed columns of a record (snake_case, without `hash`). */
export const chainFields = (record: Omit<AuditRecord, "hash">): AuditChainFields => ({
  seq: record.seq,
  ts: record.ts,
  tenant: record.tenant,
  session: record.session,
  workload: record.workload,
  intent: record.intent,
  actor_chain_hash: record.actorChainHash,
  chain_depth: record.chainDepth,
  action: record.action,
  resource: record.resource,
  decision: record.decision,
  error_code: record.errorCode,
  reason: record.reason,
  policy_version: record.policyVersion,
  jti_hash: record.jtiHash,
  prev_hash: record.prevHash
})

/** Lower-case hex SHA-256 of the canonical JSON of `fields` (a `hash` member, if present, is ignored). */
export const hashChainFields = (fields: AuditChainFields): string => {
  const { hash: _ignored, ...rest } = fields
  return createHash("sha256").update(canonicalJson(rest), "utf8").digest("hex")
}

/** The hashed column names in canonical (sorted) order. */
const chainKeys: ReadonlyArray<string> = Object.keys(
  chainFields({
    seq: 0,
    ts: 0,
    tenant: "",
    session: null,
    workload: "",
    intent: "",
    actorChainHash: "",
    chainDepth: 0,
    action: "",
    resource: "",
    decision: "allow",
    errorCode: null,
    reason: "",
    policyVersion: "",
    jtiHash: "",
    prevHash: ""
  })
).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * The `hash` a record must carry: `hashChainFields(chainFields(record))`, with the canonical JSON of
 * the flat record written in the precomputed key order.
 */
export const hashAuditRecord = (record: Omit<AuditRecord, "hash">): string => {
  const fields = chainFields(record)
  let json = "{"
  for (const key of chainKeys) {
    json += `${json.length > 1 ? "," : ""}${JSON.stringify(key)}:${JSON.stringify(fields[key] ?? null)}`
  }
  return createHash("sha256").update(`${json}}`, "utf8").digest("hex")
}

/** Verifier state between records: the `seq` expected next and the hash it must link to. */
export interface ChainCursor {
  readonly nextSeq: number
  readonly prevHash: string
}

/** Cursor before the first record. */
export const genesisCursor: ChainCursor = { nextSeq: 1, prevHash: GENESIS_HASH }

/**
 * Checks one stored row (snake_case columns including `hash`) against the cursor. Order of checks:
 * `gap` (seq is not `nextSeq`), then `link` (`prev_hash` is not the previous hash), then `hash`.
 */
export const checkRow = (
  cursor: ChainCursor,
  row: AuditChainFields
):
  | { readonly ok: true; readonly cursor: ChainCursor }
  | { readonly ok: false; readonly seq: number; readonly reason: AuditFault } => {
  const seq = row.seq
  if (seq !== cursor.nextSeq) return { ok: false, seq: cursor.nextSeq, reason: "gap" }
  if (row.prev_hash !== cursor.prevHash) return { ok: false, seq, reason: "link" }
  const hash = row.hash
  if (typeof hash !== "string" || hashChainFields(row) !== hash) return { ok: false, seq, reason: "hash" }
  return { ok: true, cursor: { nextSeq: seq + 1, prevHash: hash } }
}

/**
 * Verifies a whole exported log, given in `seq` order starting at 1. Pure; never throws.
 * Does not detect truncation of the tail on its own: compare the last `seq` / `hash` with a checkpoint.
 */
export const verifyAuditRecords = (records: ReadonlyArray<AuditRecord>): AuditVerification => {
  let cursor = genesisCursor
  for (const record of records) {
    const result = checkRow(cursor, { ...chainFields(record), hash: record.hash })
    if (!result.ok) {
      return { valid: false, records: records.length, firstBad: { seq: result.seq, reason: result.reason } }
    }
    cursor = result.cursor
  }
  return { valid: true, records: records.length }
}
