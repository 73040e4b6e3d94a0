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
import { SqliteHandle } from "./internal/SqliteDriver.js"
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

const isAuditEntry = Schema.is(AuditEntry)

const LAST_ROW = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"

const INSERT = `INSERT INTO audit_log (seq, ts, tenant, session, workload, intent, actor_chain_hash, chain_depth,
  action, resource, decision, error_code, reason, policy_version, jti_hash, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit))) : 1

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<AuditLogService, never, SqlClient.SqlClient | SqliteHandle> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const handle = yield* SqliteHandle

    const recordColumns = sql.literal(`seq, ts, tenant, session, workload, intent,
    actor_chain_hash AS "actorChainHash", chain_depth AS "chainDepth", action, resource, decision,
    error_code AS "errorCode", reason, policy_version AS "policyVersion", jti_hash AS "jtiHash",
    prev_hash AS "prevHash", hash`)

    /**
     * The chain head (`seq`, `hash` of the last record) as this service last wrote or read it. Appends
     * run synchronously on the connection (`SqliteHandle.exclusive`, so they are serialised) and this
     * service is the only writer, so an append is one prepared INSERT. The head is re-read from the table when unknown,
     * after a failed write, and for an append inside an enclosing transaction (which may still roll
     * back); a record written by anyone else makes the INSERT fail on the `seq` primary key, so the chain
     * never forks.
     */
    let cachedHead: { readonly seq: number; readonly hash: string } | undefined

    /** The last record's `seq` and `hash`, read from the table (synchronous: call on the connection). */
    const lastRow = () =>
      handle.prepare(LAST_ROW).get() as { readonly seq: number; readonly hash: string } | undefined

    const write = (clean: AuditEntry) =>
      handle.exclusive((db) => {
        const inTransaction = db.inTransaction
        const last = inTransaction || cachedHead === undefined ? lastRow() : cachedHead
        const unhashed = {
          seq: last === undefined ? 1 : last.seq + 1,
          ...clean,
          prevHash: last === undefined ? GENESIS_HASH : last.hash
        }
        const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) }
        cachedHead = undefined
        handle
          .prepare(INSERT)
          .run(
            record.seq,
            record.ts,
            record.tenant,
            record.session,
            record.workload,
            record.intent,
            record.actorChainHash,
            record.chainDepth,
            record.action,
            record.resource,
            record.decision,
            record.errorCode,
            record.reason,
            record.policyVersion,
            record.jtiHash,
            record.prevHash,
            record.hash
          )
        if (!inTransaction) cachedHead = { seq: record.seq, hash: record.hash }
        return record
      })

    // No span of its own: an append is one synchronous INSERT inside the caller's span.
    const append = (input: AuditEntry): Effect.Effect<AuditRecord, AuditUnavailableError | StoreError> => {
      if (!isAuditEntry(input)) {
        return Effect.fail(new StoreError({ code: "E_STORE", reason: "audit entry does not match schema" }))
      }
      const clean: AuditEntry = {
        ts: input.ts,
        tenant: input.tenant,
        session: input.session === null ? null : redactString(input.session),
        workload: redactString(input.workload),
        intent: redactString(input.intent),
        actorChainHash: redactString(input.actorChainHash),
        chainDepth: input.chainDepth,
        action: redactString(input.action),
        resource: redactString(input.resource),
        decision: input.decision,
        errorCode: input.errorCode === null ? null : redactString(input.errorCode),
        reason: redactString(input.reason),
        policyVersion: redactString(input.policyVersion),
        jtiHash: redactString(input.jtiHash)
      }
      return write(clean).pipe(Effect.mapError(unavailable("append")))
    }

    const verify = Effect.fn("AuditLog.verify")(
      function* () {
        let cursor: ChainCursor = genesisCursor
        let records = 0
        let firstBad: AuditVerification["firstBad"]
        let afterSeq = 0
        while (true) {
          const rows = yield* sql<
            AuditChainFields & { seq: number }
          >`SELECT seq, ts, tenant, session, workload,
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
      handle
        .exclusive(lastRow)
        .pipe(
          Effect.map(Option.fromNullable),
          Effect.mapError(unavailable("read")),
          Effect.withSpan("AuditLog.head")
        )

    return { append, verify, list, page, head }
  }
)

/**
 * Tag of the audit log service. `AuditLog.layer` requires the control plane's `SqlClient` and
 * `SqliteHandle` (`ControlPlane.layer`) with migrations applied.
 */
export class AuditLog extends Context.Tag("@cordon/store/AuditLog")<AuditLog, AuditLogService>() {
  static readonly layer: Layer.Layer<AuditLog, never, SqlClient.SqlClient | SqliteHandle> = Layer.effect(
    AuditLog,
    make
  )
}
