/**
 * The append-only, hash-chained audit log (`audit_log` table). Only the broker appends; every policy
 * decision, allow or deny, becomes one record. See `AuditChain` for the hash definition.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import {
  type AuditChainFields,
  type AuditVerification,
  type ChainCursor,
  checkRow,
  GENESIS_HASH,
  genesisCursor,
  hashAuditRecord
} from "./AuditChain.js"
import { AuditUnavailableError, StoreError } from "./Errors.js"
import { redactString } from "./internal/Redact.js"
import { decodeRows } from "./internal/Rows.js"
import { AuditEntry, AuditRecord } from "./Model.js"

/** Records read per query while verifying. */
const PAGE = 1000
/** Upper bound of `list` / `page` `limit`. */
const MAX_LIMIT = 1000

/** The audit log service. */
export interface AuditLogService {
  /**
   * Appends one record: `seq` = previous + 1, `prevHash` = previous record's hash (64 zeros first),
   * `hash` per `AuditChain`. Appends are serialised, so `seq` stays contiguous under concurrency.
   * String fields are scrubbed of JWT- and PEM-shaped text first (a raw token is never stored).
   * Fails with `AuditUnavailableError` when the store cannot be written (callers must then fail closed,
   * AT-03) and `StoreError` when `entry` breaks the `AuditEntry` schema.
   */
  readonly append: (entry: AuditEntry) => Effect.Effect<AuditRecord, AuditUnavailableError | StoreError>
  /** Verifies the whole stored chain in `seq` order (see `AuditVerification`). */
  readonly verify: () => Effect.Effect<AuditVerification, AuditUnavailableError>
  /**
   * One tenant's records in ascending `seq`, after `afterSeq` (default 0), at most `limit` (1–1000).
   */
  readonly list: (options: {
    readonly tenant: string
    readonly limit: number
    readonly afterSeq?: number
  }) => Effect.Effect<ReadonlyArray<AuditRecord>, AuditUnavailableError | StoreError>
  /** All tenants' records in ascending `seq` after `afterSeq`, at most `limit` (1–1000): for export. */
  readonly page: (options: {
    readonly afterSeq: number
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<AuditRecord>, AuditUnavailableError | StoreError>
  /** The last record's `seq` and `hash` (for signed checkpoints that detect tail truncation). */
  readonly head: () => Effect.Effect<Option.Option<{ seq: number; hash: string }>, AuditUnavailableError>
}

const unavailable = (operation: string) => (_: SqlError) =>
  new AuditUnavailableError({ code: "E_AUDIT_UNAVAILABLE", reason: `audit log ${operation} failed` })

const toRecords = decodeRows(AuditRecord, "audit_log")

const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit))) : 1

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<AuditLogService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const lock = yield* Effect.makeSemaphore(1)

  const recordColumns = sql.literal(`seq, ts, tenant, session, workload, intent,
    actor_chain_hash AS "actorChainHash", chain_depth AS "chainDepth", action, resource, decision,
    error_code AS "errorCode", reason, policy_version AS "policyVersion", jti_hash AS "jtiHash",
    prev_hash AS "prevHash", hash`)

  const lastRow = sql<{
    seq: number
    hash: string
  }>`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`

  const append = Effect.fn("AuditLog.append")(function* (input: AuditEntry) {
    const entry = yield* Schema.validate(AuditEntry)(input).pipe(
      Effect.mapError(() => new StoreError({ code: "E_STORE", reason: "audit entry does not match schema" }))
    )
    yield* Effect.annotateCurrentSpan({ tenant: entry.tenant, decision: entry.decision })
    const clean: AuditEntry = {
      ...entry,
      session: entry.session === null ? null : redactString(entry.session),
      workload: redactString(entry.workload),
      intent: redactString(entry.intent),
      actorChainHash: redactString(entry.actorChainHash),
      action: redactString(entry.action),
      resource: redactString(entry.resource),
      errorCode: entry.errorCode === null ? null : redactString(entry.errorCode),
      reason: redactString(entry.reason),
      policyVersion: redactString(entry.policyVersion),
      jtiHash: redactString(entry.jtiHash)
    }
    const write = Effect.gen(function* () {
      const last = (yield* lastRow)[0]
      const unhashed = {
        seq: last === undefined ? 1 : last.seq + 1,
        ...clean,
        prevHash: last === undefined ? GENESIS_HASH : last.hash
      }
      const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) }
      yield* sql`INSERT INTO audit_log (seq, ts, tenant, session, workload, intent, actor_chain_hash,
        chain_depth, action, resource, decision, error_code, reason, policy_version, jti_hash, prev_hash, hash)
        VALUES (${record.seq}, ${record.ts}, ${record.tenant}, ${record.session}, ${record.workload},
        ${record.intent}, ${record.actorChainHash}, ${record.chainDepth}, ${record.action},
        ${record.resource}, ${record.decision}, ${record.errorCode}, ${record.reason},
        ${record.policyVersion}, ${record.jtiHash}, ${record.prevHash}, ${record.hash})`
      return record
    })
    return yield* lock
      .withPermits(1)(sql.withTransaction(write))
      .pipe(Effect.mapError(unavailable("append")))
  })

  const verify = Effect.fn("AuditLog.verify")(
    function* () {
      let cursor: ChainCursor = genesisCursor
      let records = 0
      let firstBad: AuditVerification["firstBad"]
      let afterSeq = 0
      while (true) {
        const rows = yield* sql<AuditChainFields & { seq: number }>`SELECT seq, ts, tenant, session, workload,
        intent, actor_chain_hash, chain_depth, action, resource, decision, error_code, reason,
        policy_version, jti_hash, prev_hash, hash
        FROM audit_log WHERE seq > ${afterSeq} ORDER BY seq LIMIT ${PAGE}`
        for (const row of rows) {
          records++
          if (firstBad !== undefined) continue
          const result = checkRow(cursor, row)
          if (result.ok) cursor = result.cursor
          else firstBad = { seq: result.seq, reason: result.reason }
        }
        const last = rows[rows.length - 1]
        if (last === undefined || rows.length < PAGE) break
        afterSeq = last.seq
      }
      const outcome: AuditVerification =
        firstBad === undefined ? { valid: true, records } : { valid: false, records, firstBad }
      return outcome
    },
    Effect.mapError(unavailable("read"))
  )

  const list = Effect.fn("AuditLog.list")(function* (options: {
    readonly tenant: string
    readonly limit: number
    readonly afterSeq?: number
  }) {
    const rows = yield* sql`SELECT ${recordColumns} FROM audit_log
      WHERE tenant = ${options.tenant} AND seq > ${Math.trunc(options.afterSeq ?? 0)}
      ORDER BY seq LIMIT ${clampLimit(options.limit)}`.pipe(Effect.mapError(unavailable("read")))
    return yield* toRecords(rows)
  })

  const page = Effect.fn("AuditLog.page")(function* (options: {
    readonly afterSeq: number
    readonly limit: number
  }) {
    const rows = yield* sql`SELECT ${recordColumns} FROM audit_log
      WHERE seq > ${Math.trunc(options.afterSeq)}
      ORDER BY seq LIMIT ${clampLimit(options.limit)}`.pipe(Effect.mapError(unavailable("read")))
    return yield* toRecords(rows)
  })

  const head = () =>
    lastRow.pipe(
      Effect.map((rows) => Option.fromNullable(rows[0])),
      Effect.mapError(unavailable("read")),
      Effect.withSpan("AuditLog.head")
    )

  return { append, verify, list, page, head }
})

/** Tag of the audit log service. `AuditLog.layer` requires a `SqlClient` with migrations applied. */
export class AuditLog extends Context.Tag("@cordon/store/AuditLog")<AuditLog, AuditLogService>() {
  static readonly layer: Layer.Layer<AuditLog, never, SqlClient.SqlClient> = Layer.effect(AuditLog, make)
}
