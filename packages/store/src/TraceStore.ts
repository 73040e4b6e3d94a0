/**
 * Delegation traces (`trace_events` table): one row per span of a task's tree of agents, handoffs,
 * tool calls, policy decisions, cache hits, revocations and errors. Strings in `name` and `attrs` are
 * scrubbed of JWT- and PEM-shaped text before they are stored.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import { StoreError } from "./Errors.js"
import { redactJson, redactString } from "./internal/Redact.js"
import { decodeRows, encodeJson } from "./internal/Rows.js"
import { TraceEvent, type TraceStatus } from "./Model.js"

/** How a span ended; `endMs` in epoch ms; `attrs` are merged over the span's attributes. */
export interface SpanEnd {
  readonly status: TraceStatus
  readonly endMs: number
  readonly attrs?: Readonly<Record<string, unknown>>
}

/** The trace store service. Fails with `SqlError` when the database does. */
export interface TraceStoreService {
  /** Stores a span; returns its row id (ascending in insertion order). */
  readonly append: (event: TraceEvent) => Effect.Effect<number, SqlError | StoreError>
  /**
   * Ends the open span(s) with this `spanId` (`endMs` still `null`): sets status and `endMs`, merges
   * `attrs`. `false` when no open span has that id.
   */
  readonly end: (spanId: string, patch: SpanEnd) => Effect.Effect<boolean, SqlError | StoreError>
  /** The tenant's spans of one trace (`txn` = root task id), in insertion order. */
  readonly list: (
    tenant: string,
    txn: string
  ) => Effect.Effect<ReadonlyArray<TraceEvent>, SqlError | StoreError>
}

const TraceRow = Schema.Struct({
  ...TraceEvent.fields,
  attrs: Schema.parseJson(TraceEvent.fields.attrs)
})
const decode = decodeRows(TraceRow, "trace_events")
const decodeAttrs = decodeRows(
  Schema.Struct({ id: Schema.Int, attrs: TraceRow.fields.attrs }),
  "trace_events"
)

/** Builds the service over the ambient `SqlClient`. */
export const make: Effect.Effect<TraceStoreService, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const append = Effect.fn("TraceStore.append")(function* (event: TraceEvent) {
    yield* Effect.annotateCurrentSpan({ tenant: event.tenant, txn: event.txn })
    const attrs = yield* encodeJson(redactJson(event.attrs), "trace attrs")
    const rows = yield* sql<{ id: number }>`INSERT INTO trace_events (txn, tenant, span_id, parent_span_id,
      kind, name, status, attrs, start_ms, end_ms)
      VALUES (${event.txn}, ${event.tenant}, ${event.spanId}, ${event.parentSpanId}, ${event.kind},
      ${redactString(event.name)}, ${event.status}, ${attrs}, ${event.startMs}, ${event.endMs})
      RETURNING id`
    const row = rows[0]
    if (row === undefined)
      return yield* new StoreError({ code: "E_STORE", reason: "trace insert returned no row" })
    return row.id
  })

  const end = Effect.fn("TraceStore.end")(function* (spanId: string, patch: SpanEnd) {
    const update = Effect.gen(function* () {
      const open = yield* sql`SELECT id, attrs FROM trace_events
        WHERE span_id = ${spanId} AND end_ms IS NULL`.pipe(Effect.flatMap(decodeAttrs))
      for (const row of open) {
        const merged = patch.attrs === undefined ? row.attrs : { ...row.attrs, ...patch.attrs }
        const attrs = yield* encodeJson(redactJson(merged), "trace attrs")
        yield* sql`UPDATE trace_events SET status = ${patch.status}, end_ms = ${patch.endMs}, attrs = ${attrs}
          WHERE id = ${row.id}`
      }
      return open.length > 0
    })
    return yield* sql.withTransaction(update)
  })

  const list = Effect.fn("TraceStore.list")(function* (tenant: string, txn: string) {
    yield* Effect.annotateCurrentSpan({ tenant, txn })
    return yield* sql`SELECT txn, tenant, span_id AS "spanId", parent_span_id AS "parentSpanId", kind, name,
      status, attrs, start_ms AS "startMs", end_ms AS "endMs"
      FROM trace_events WHERE tenant = ${tenant} AND txn = ${txn} ORDER BY id`.pipe(Effect.flatMap(decode))
  })

  return { append, end, list }
})

/** Tag of the trace store service. `TraceStore.layer` requires a `SqlClient` with migrations applied. */
export class TraceStore extends Context.Tag("@cordon/store/TraceStore")<TraceStore, TraceStoreService>() {
  static readonly layer: Layer.Layer<TraceStore, never, SqlClient.SqlClient> = Layer.effect(TraceStore, make)
}
