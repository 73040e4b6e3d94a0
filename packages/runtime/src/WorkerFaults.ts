/**
 * Failures of the tenant worker pool and of the broker ↔ worker channel. Each has a stable `code` and a
 * `reason` literal; none carries a token, a key, a message body or another tenant's data. Every one of them
 * is tenant-local: it fails only calls made on the tenant's own worker.
 *
 * @module
 */
import * as Schema from "effect/Schema"

/**
 * Why a tenant worker thread ended.
 * - `crashed`: it exited on its own (uncaught exception, `process.exit()`).
 * - `out_of_memory`: it hit its V8 heap `resourceLimits` (`ERR_WORKER_OUT_OF_MEMORY`).
 * - `terminated`: `TenantWorkerPool.terminate` (operator, offboarding, chaos).
 * - `deadline`: a call overran its deadline (`withDeadline`) and the worker did not answer a probe.
 * - `unresponsive`: a call was interrupted and the worker did not answer a probe within the grace period
 *   (a CPU loop that never yields).
 * - `integrity`: the worker sent messages the broker refused (see {@link MessageIntegrity}) past the limit.
 * - `idle` / `evicted` / `shutdown`: closed by the pool (idle TTL, LRU eviction under the global cap, pool
 *   shutdown).
 * - `start_failed`: it never became ready.
 */
export const WorkerExitCause = Schema.Literal(
  "crashed",
  "out_of_memory",
  "terminated",
  "deadline",
  "unresponsive",
  "integrity",
  "idle",
  "evicted",
  "shutdown",
  "start_failed"
)
export type WorkerExitCause = typeof WorkerExitCause.Type

/** A call was in flight on a tenant worker that ended (`reason` = the exit cause). */
export class WorkerCrashed extends Schema.TaggedError<WorkerCrashed>()("WorkerCrashed", {
  code: Schema.Literal("E_WORKER_CRASHED"),
  reason: WorkerExitCause
}) {}

/**
 * A resource bound was hit: `heap` — the worker ran out of its V8 heap limit (the thread is gone, the
 * broker survives); `message_size` — a message between broker and worker was over `maxMessageBytes` and
 * was refused before it was transferred (outbound) or processed (inbound).
 */
export class ResourceLimit extends Schema.TaggedError<ResourceLimit>()("ResourceLimit", {
  code: Schema.Literal("E_RESOURCE_LIMIT"),
  reason: Schema.Literal("heap", "message_size")
}) {}

/**
 * A message from a worker was refused and never acted on (THREATS IC-01, IC-03): `schema` — not exactly
 * the protocol's shape (unknown tag, extra or missing field, non-JSON value); `unknown_sender` — it came
 * on a channel the broker did not create (a transferred `MessagePort`) or answers a request the broker
 * never sent; `signature` — a token chain it carried failed verification.
 */
export class MessageIntegrity extends Schema.TaggedError<MessageIntegrity>()("MessageIntegrity", {
  code: Schema.Literal("E_MESSAGE_INTEGRITY"),
  reason: Schema.Literal("schema", "unknown_sender", "signature")
}) {}

/** A call ran past its deadline (`TenantWorkerPool.withDeadline`). */
export class TaskTimeout extends Schema.TaggedError<TaskTimeout>()("TaskTimeout", {
  code: Schema.Literal("E_TASK_TIMEOUT"),
  reason: Schema.Literal("deadline")
}) {}

/** What an in-flight call on a tenant worker may fail with besides its own failure type. */
export type WorkerFault = WorkerCrashed | ResourceLimit | MessageIntegrity
