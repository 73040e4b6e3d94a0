import * as Context from "effect/Context"
import type * as Deferred from "effect/Deferred"
import type { Jwks, ReplyBody } from "./Protocol.js"

/** What a tenant worker holds after boot: its one tenant, its public keys, its pending broker calls. */
export interface WorkerStateApi {
  readonly tenant: string
  readonly trustDomain: string
  readonly issuer: string
  /** The tenant's published public keys (replaced by `UpdateKeys` after a rotation or retirement). */
  readonly keys: { jwks: Jwks }
  readonly dataDir: string
  readonly tenantDir: string
  readonly maxDepth: number
  readonly clockToleranceSec: number
  readonly settings: Readonly<Record<string, string>>
  /** Token ids the broker has revoked (pushed by `Revoke`); checked on every local verification. */
  readonly revoked: Set<string>
  /**
   * Freshness of the revocation view: the broker's list version last applied and when (monotonic ms,
   * `performance.now()`). Older than `revocationStaleMs` → tool calls are refused (fail closed).
   */
  readonly revocationView: { version: number; syncedAt: number }
  readonly revocationStaleMs: number
  /** Largest message this worker may post or hand an agent as a tool result, in bytes. */
  readonly maxMessageBytes: number
  /** Calls awaiting the broker's `Reply`, by call id. */
  readonly pending: Map<string, Deferred.Deferred<ReplyBody>>
}

export class WorkerState extends Context.Tag("@cordon/runtime/WorkerState")<WorkerState, WorkerStateApi>() {}
