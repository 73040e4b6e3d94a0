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
  /** Allowed clock skew when verifying tokens, in seconds (0–30). */
  readonly clockToleranceSec: number
  /** Absolute path of the bundled tenant worker entry (an ES module calling `runTenantWorker`). */
  readonly workerEntry: string
  /** V8 heap limits of each tenant worker, in MB (`worker_threads` `resourceLimits`). */
  readonly workerResourceLimits: {
    readonly maxOldGenerationSizeMb: number
    readonly maxYoungGenerationSizeMb: number
    readonly stackSizeMb: number
  }
  /** Idle time after which a tenant worker is stopped, in milliseconds. */
  readonly workerIdleMs: number
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
  clockToleranceSec: 5,
  workerResourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  workerIdleMs: 60_000,
  revocationSyncMs: 1_000,
  revocationStaleMs: 5_000,
  keyMaxAgeSec: 86_400,
  keyRotationCheckMs: 60_000,
  settings: {}
} as const

/** A layer from explicit settings, filling in {@link defaults}. */
export const layer = (
  config: Pick<RuntimeConfigShape, "dataDir" | "workerEntry"> & Partial<RuntimeConfigShape>
): Layer.Layer<RuntimeConfig> => Layer.succeed(RuntimeConfig, { ...defaults, ...config })
