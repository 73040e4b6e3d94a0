import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/** Settings of the broker and its tenant workers. Times in the unit their name says. */
export interface RuntimeConfigShape {
  /** Root of all tenant data (`<dataDir>/tenants/<tenant>/...`); absolute path. */
  readonly dataDir: string
  /** SPIFFE trust domain of agent identities (`spiffe://<trustDomain>/tenant/<t>/agent/<a>`). */
  readonly trustDomain: string
  /** Largest delegation depth a chain may reach (root = 0). */
  readonly maxDepth: number
  /** Lifetime of a task token, in seconds (capped at the parent's `exp` and the session's end). */
  readonly tokenTtlSec: number
  /** Default session lifetime, in seconds. */
  readonly sessionTtlSec: number
  /** Deadline of one task, in milliseconds, counted from its start. */
  readonly taskTimeoutMs: number
  /** Tasks of one tenant that may run at once. */
  readonly tenantConcurrency: number
  /** Tasks that may run at once over all tenants. */
  readonly maxRunning: number
  /**
   * Worker time worth one scheduling credit, in milliseconds: a task is charged its run time in these
   * units, so a tenant whose tasks run long (or spin until their deadline) starts proportionally fewer.
   */
  readonly schedulerCostUnitMs: number
  /** Queued tasks one tenant may hold; a submit beyond it fails with `E_QUOTA_EXCEEDED` (reason `queue`). */
  readonly tenantQueueLimit: number
  /**
   * Worker crashes a task may be caught in: an idempotent agent's task is retried until it has crashed
   * this many times, then dead-lettered (poison pill); a non-idempotent one fails at its first crash.
   */
  readonly maxTaskCrashes: number
  /** Pending background jobs one session may hold; scheduling beyond it fails with `E_QUOTA_EXCEEDED`. */
  readonly sessionJobLimit: number
  /**
   * Longest a line of background jobs may live, in milliseconds from its first scheduling: its deadline
   * is min(session end, first scheduling + this), inherited by every reschedule.
   */
  readonly jobHorizonMs: number
  /** Allowed clock skew when verifying tokens, in seconds (0–30). */
  readonly clockToleranceSec: number
  /**
   * Absolute path of the tenant worker entry (an ES module calling `runTenantWorker`). Build it with
   * `scripts/bundle-worker.mjs`: such a bundle starts from a V8 code cache (see `TenantWorkerPool`).
   */
  readonly workerEntry: string
  /** V8 heap limits of each tenant worker, in MB (`worker_threads` `resourceLimits`). */
  readonly workerResourceLimits: {
    readonly maxOldGenerationSizeMb: number
    readonly maxYoungGenerationSizeMb: number
    readonly stackSizeMb: number
  }
  /** Idle time after which a tenant worker is stopped, in milliseconds. */
  readonly workerIdleMs: number
  /**
   * Live tenant workers over all tenants (threat RE-04: never exceeded). A tenant that needs a worker when
   * all are live takes the slot of the least recently used idle one; when none is idle it waits up to
   * `spawnWaitMs`, then fails with `E_QUOTA_EXCEEDED` (reason `spawn`).
   */
  readonly maxWorkers: number
  /** How long a tenant may wait for a worker slot when `maxWorkers` are all busy, in milliseconds. */
  readonly spawnWaitMs: number
  /**
   * Bound on a worker's start (thread up, booted for its tenant, readiness ping answered), in milliseconds;
   * past it the worker is terminated and its calls fail with `E_WORKER_UNAVAILABLE`.
   */
  readonly workerStartMs: number
  /**
   * After a call on a worker is abandoned (deadline, cancellation), the worker must answer a ping within
   * this many milliseconds or it is terminated (a loop that never yields cannot be interrupted). Generous
   * on purpose: a worker that is merely slow under CPU load must not be killed for it.
   */
  readonly workerProbeMs: number
  /**
   * Largest message between broker and worker, in bytes (JSON-like size; binary buffers count their
   * length). Bigger ones are refused with `E_RESOURCE_LIMIT` before they are posted or processed.
   */
  readonly maxMessageBytes: number
  /** How often the broker re-syncs each live worker's revocation view, in milliseconds. */
  readonly revocationSyncMs: number
  /**
   * A worker whose revocation view is older than this (milliseconds since it last heard from the broker)
   * refuses tool calls with `E_REVOCATION_UNAVAILABLE` until it catches up.
   */
  readonly revocationStaleMs: number
  /** A tenant's signing key is rotated once it is older than this, in seconds. */
  readonly keyMaxAgeSec: number
  /** How often the broker checks key ages (and refreshes workers' JWKS), in milliseconds. */
  readonly keyRotationCheckMs: number
  /**
   * Guards on shared upstreams and runaway tasks: per-tenant and per-session budgets of tool calls and
   * cost units per window (`E_QUOTA_EXCEEDED`, reasons `calls` / `cost`); a circuit breaker per tenant and
   * tool (`E_CIRCUIT_OPEN`); per-task caps on handoffs (`spawn`) and tool calls (`steps`); and the number
   * of denials after which an agent is quarantined for the rest of its task (`E_AGENT_QUARANTINED`).
   */
  readonly upstream: {
    readonly budgets: {
      readonly windowMs: number
      readonly tenantCalls: number
      readonly tenantCost: number
      readonly sessionCalls: number
    }
    readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number }
    readonly maxHandoffsPerTask: number
    readonly maxStepsPerTask: number
    readonly quarantineAfterDenials: number
  }
  /** Non-secret settings handed to every tenant worker (`ToolContext.settings`). */
  readonly settings: Readonly<Record<string, string>>
}

export class RuntimeConfig extends Context.Tag("@cordon/runtime/RuntimeConfig")<
  RuntimeConfig,
  RuntimeConfigShape
>() {}

/** Defaults for everything but the paths. */
export const defaults = {
  trustDomain: "cordon.local",
  maxDepth: 4,
  tokenTtlSec: 120,
  sessionTtlSec: 3600,
  taskTimeoutMs: 30_000,
  tenantConcurrency: 4,
  maxRunning: 16,
  schedulerCostUnitMs: 100,
  tenantQueueLimit: 1_000,
  maxTaskCrashes: 3,
  sessionJobLimit: 16,
  jobHorizonMs: 3_600_000,
  clockToleranceSec: 5,
  workerResourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  workerIdleMs: 60_000,
  maxWorkers: 16,
  spawnWaitMs: 5_000,
  workerStartMs: 5_000,
  workerProbeMs: 1_000,
  maxMessageBytes: 1_048_576,
  revocationSyncMs: 1_000,
  revocationStaleMs: 5_000,
  keyMaxAgeSec: 86_400,
  keyRotationCheckMs: 60_000,
  upstream: {
    budgets: { windowMs: 60_000, tenantCalls: 6_000, tenantCost: 6_000, sessionCalls: 1_000 },
    breaker: { failureThreshold: 5, cooldownMs: 10_000 },
    maxHandoffsPerTask: 32,
    maxStepsPerTask: 256,
    quarantineAfterDenials: 5
  },
  settings: {}
} as const

/** A layer from explicit settings, filling in {@link defaults}. */
export const layer = (
  config: Pick<RuntimeConfigShape, "dataDir" | "workerEntry"> & Partial<RuntimeConfigShape>
): Layer.Layer<RuntimeConfig> => Layer.succeed(RuntimeConfig, { ...defaults, ...config })
