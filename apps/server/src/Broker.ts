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
import type { Team } from "@cordon/sdk/Team"
import * as ControlPlane from "@cordon/store/ControlPlane"
import { Credentials } from "@cordon/store/Credentials"
import { Effect, Layer } from "effect"
import * as path from "node:path"

export interface BrokerOptions {
  /** Absolute data directory (control-plane database, tenant directories, development issuer key). */
  readonly dataDir: string
  /** The team to serve, and the bundled worker entry that runs the same team. */
  readonly team: Team
  readonly workerEntry: string
  readonly config?: Partial<RuntimeConfig.RuntimeConfigShape>
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
  // Tenant signing keys persist in the control plane, wrapped under the master key.
  const keyRing = KeyRing.layerPersistent.pipe(
    Layer.provide(Layer.merge(KeyStoreSql.layer, MasterKeyFile.layer(options.dataDir))),
    Layer.provide(store)
  )
  const identity = TokenService.layerWith({ clockToleranceSec: options.config?.clockToleranceSec ?? 5 }).pipe(
    Layer.provideMerge(Layer.merge(keyRing, RevocationList.layer))
  )
  const base = Layer.mergeAll(config, store, identity, Authorizer.layer, TeamRegistry.layer(options.team))
  const pool = TenantWorkerPool.layer(boot)
  return Orchestrator.layer.pipe(
    Layer.provideMerge(Layer.merge(Revocations.layer, KeyManager.layer)),
    Layer.provideMerge(pool),
    Layer.provideMerge(base),
    Layer.merge(CallerTokens.layerDev(options.dataDir))
  )
}
