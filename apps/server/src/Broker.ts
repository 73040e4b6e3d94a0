/**
 * The broker's layer graph, composed here at the edge: control-plane store, identity (key rings, token
 * service, revocation list), policy (Cedar authoriser), tenant worker pool, orchestrator and the caller-token
 * issuer. Everything the HTTP service and the CLI need.
 */
import { KeyRing } from "@cordon/identity/KeyRing"
import { RevocationList } from "@cordon/identity/RevocationList"
import { TokenService } from "@cordon/identity/TokenService"
import { Authorizer } from "@cordon/policy/Authorizer"
import * as CallerTokens from "@cordon/runtime/CallerTokens"
import * as KeyManager from "@cordon/runtime/KeyManager"
import * as KeyStoreSql from "@cordon/runtime/KeyStoreSql"
import * as MasterKeyFile from "@cordon/runtime/MasterKeyFile"
import * as Orchestrator from "@cordon/runtime/Orchestrator"
import * as Revocations from "@cordon/runtime/Revocations"
import * as RuntimeConfig from "@cordon/runtime/RuntimeConfig"
import * as TeamRegistry from "@cordon/runtime/TeamRegistry"
import * as TenantWorkerPool from "@cordon/runtime/TenantWorkerPool"
import * as UpstreamGuards from "@cordon/runtime/UpstreamGuards"
import type { Team } from "@cordon/sdk/Team"
import { AuditCheckpoints, checkpointFileOf, checkpointKey } from "@cordon/store/AuditCheckpoints"
import { AuditLog, type AuditLogService } from "@cordon/store/AuditLog"
import * as ControlPlane from "@cordon/store/ControlPlane"
import { Credentials } from "@cordon/store/Credentials"
import { MasterKey } from "@cordon/identity/MasterKey"
import { Effect, Layer, Redacted } from "effect"
import * as path from "node:path"
import * as OperatorToken from "./OperatorToken.js"

export interface BrokerOptions {
  /** Absolute data directory (control-plane database, tenant directories, development issuer key). */
  readonly dataDir: string
  /** The team to serve, and the bundled worker entry that runs the same team. */
  readonly team: Team
  readonly workerEntry: string
  readonly config?: Partial<RuntimeConfig.RuntimeConfigShape>
  /**
   * Signed audit checkpoints (AT-01): the file, apart from the database (default
   * `<dataDir>/audit/checkpoints.jsonl`), and the records between two checkpoints (default 100).
   */
  readonly auditCheckpoints?: { readonly file?: string; readonly every?: number }
  /** The operator bearer secret for `/v1/admin/...` (default: `<dataDir>/operator.token`, created once). */
  readonly operatorToken?: string
  /** Test hook: wraps the broker's audit log (e.g. a fault switch, AT-03). Absent in production. */
  readonly wrapAuditLog?: (log: AuditLogService) => AuditLogService
}

/**
 * The broker's one audit writer: the store's `AuditLog`, checkpointed under a key derived from the master
 * key (held only in this thread), then wrapped by `options.wrapAuditLog` if given.
 */
const auditLayer = (options: BrokerOptions) => {
  const checkpointed = Layer.unwrapEffect(
    Effect.map(MasterKey, (master) =>
      AuditCheckpoints.layer({
        file: options.auditCheckpoints?.file ?? checkpointFileOf(options.dataDir),
        key: checkpointKey(Redacted.value(master.key)),
        ...(options.auditCheckpoints?.every !== undefined ? { every: options.auditCheckpoints.every } : {})
      })
    )
  ).pipe(Layer.provide(AuditLog.layer))
  const wrap = options.wrapAuditLog
  return wrap === undefined
    ? checkpointed
    : Layer.effect(AuditLog, Effect.map(AuditLog, wrap)).pipe(Layer.provideMerge(checkpointed))
}

/** What a tenant worker is booted with: its issuer, its own public keys, its revoked token ids. */
const boot = (tenant: string) =>
  Effect.gen(function* () {
    const tokens = yield* TokenService
    const credentials = yield* Credentials
    const jwks = yield* tokens.jwks(tenant)
    const revoked = yield* credentials.listRevoked(tenant, Math.floor(Date.now() / 1000)).pipe(Effect.orDie)
    return { issuer: tokens.issuer(tenant), jwks, revoked }
  })

/** The whole broker. */
export const brokerLayer = (options: BrokerOptions) => {
  const config = RuntimeConfig.layer({
    ...options.config,
    dataDir: options.dataDir,
    workerEntry: options.workerEntry
  })
  const store = ControlPlane.layerWithServices({
    filename: path.join(options.dataDir, "control-plane.sqlite")
  })
  const masterKey = MasterKeyFile.layer(options.dataDir)
  // Tenant signing keys persist in the control plane, wrapped under the master key.
  const keyRing = KeyRing.layerPersistent.pipe(
    Layer.provide(Layer.merge(KeyStoreSql.layer, masterKey)),
    Layer.provide(store)
  )
  // Provided after `store`, so this checkpointed audit log replaces the store's plain one.
  const audit = auditLayer(options).pipe(Layer.provide(Layer.merge(store, masterKey)))
  const identity = TokenService.layerWith({ clockToleranceSec: options.config?.clockToleranceSec ?? 5 }).pipe(
    Layer.provideMerge(Layer.merge(keyRing, RevocationList.layer))
  )
  const base = Layer.mergeAll(
    config,
    store,
    audit,
    identity,
    Authorizer.layer,
    TeamRegistry.layer(options.team)
  )
  const pool = TenantWorkerPool.layer(boot)
  return Orchestrator.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Revocations.layer, KeyManager.layer, UpstreamGuards.layer)),
    Layer.provideMerge(pool),
    Layer.provideMerge(base),
    Layer.merge(CallerTokens.layerDev(options.dataDir)),
    Layer.merge(OperatorToken.layer(options.dataDir, options.operatorToken))
  )
}
