import { TraceStore } from "@cordon/store/TraceStore"
import type { TraceKind, TraceStatus } from "@cordon/store/Model"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"

/** Writes the spans of one task's delegation trace. Attributes never hold a token. */
export interface Tracer {
  readonly txn: string
  readonly start: (
    kind: TraceKind,
    name: string,
    parent: string | null,
    attrs?: Record<string, unknown>
  ) => Effect.Effect<string>
  readonly end: (spanId: string, status: TraceStatus, attrs?: Record<string, unknown>) => Effect.Effect<void>
  /**
   * Ends every span of this tracer that is still running (children before parents), e.g. when the
   * task is cancelled or fails while a tool call or handoff is open.
   */
  readonly endOpen: (status: TraceStatus, attrs?: Record<string, unknown>) => Effect.Effect<void>
  /** A span that starts and ends at once (a decision, a note, a revocation). */
  readonly event: (
    kind: TraceKind,
    name: string,
    parent: string | null,
    status: TraceStatus,
    attrs?: Record<string, unknown>
  ) => Effect.Effect<string>
}

export const newSpanId = (): string => randomBytes(8).toString("hex")

/** A tracer for task `txn` of `tenant`. Trace writes are best effort: a failed write never fails the task. */
export const makeTracer = (tenant: string, txn: string) =>
  Effect.map(TraceStore, (store): Tracer => {
    /** Writes a span; `endMs` null leaves it running. */
    const write = (
      kind: TraceKind,
      name: string,
      parent: string | null,
      status: TraceStatus,
      attrs: Record<string, unknown>,
      startMs: number,
      endMs: number | null
    ) => {
      const spanId = newSpanId()
      return store
        .append({ txn, tenant, spanId, parentSpanId: parent, kind, name, status, attrs, startMs, endMs })
        .pipe(Effect.ignoreLogged, Effect.as(spanId))
    }
    /** Spans started and not yet ended, in start order. */
    const open = new Set<string>()
    const start: Tracer["start"] = (kind, name, parent, attrs = {}) =>
      Effect.tap(write(kind, name, parent, "running", attrs, Date.now(), null), (spanId) => {
        open.add(spanId)
      })
    const end: Tracer["end"] = (spanId, status, attrs) =>
      Effect.suspend(() => {
        open.delete(spanId)
        return store
          .end(spanId, { status, endMs: Date.now(), ...(attrs === undefined ? {} : { attrs }) })
          .pipe(Effect.ignoreLogged)
      })
    const endOpen: Tracer["endOpen"] = (status, attrs) =>
      Effect.suspend(() => Effect.forEach([...open].reverse(), (spanId) => end(spanId, status, attrs)))
    const event: Tracer["event"] = (kind, name, parent, status, attrs = {}) => {
      const now = Date.now()
      return write(kind, name, parent, status, attrs, now, now)
    }
    return { txn, start, end, endOpen, event }
  })
