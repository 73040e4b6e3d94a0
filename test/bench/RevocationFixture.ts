/**
 * A real tenant worker for the revocation-propagation benchmark: the broker layer as the server composes
 * it (`brokerLayer`: control-plane store, identity, Cedar, `TenantWorkerPool`) over a fresh temporary data
 * directory, and the bundled test-team worker (`test/dist/test-worker.mjs`, built by
 * `pnpm --filter @cordon/test build`).
 *
 * @module
 */
import { Revoke } from "@cordon/runtime/Protocol"
import { type TenantWorker, TenantWorkerPool } from "@cordon/runtime/TenantWorkerPool"
import { brokerLayer } from "@cordon/server/Broker"
import { Effect, Exit, ManagedRuntime, Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { testTeam } from "../fixtures/team.js"
import { TENANT } from "./IdentityFixtures.js"

/** The bundled tenant worker entry of the test team. */
export const workerEntry = path.resolve(import.meta.dirname, "../dist/test-worker.mjs")

/** State of the revocation benchmark. */
export interface RevocationState {
  /** Sends one `Revoke` of a fresh token id to the live worker; resolves to the round trip in ms. */
  readonly revokeRoundTrip: () => Promise<number>
  readonly dispose: () => Promise<void>
}

/** Starts the broker and the tenant's worker (waiting for its readiness `Ping`), held until `dispose`. */
export const setupRevocation = async (): Promise<RevocationState> => {
  if (!fs.existsSync(workerEntry)) {
    throw new Error(`${workerEntry} is missing: run pnpm --filter @cordon/test build`)
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bench-"))
  const runtime = ManagedRuntime.make(brokerLayer({ dataDir, team: testTeam, workerEntry, config: {} }))
  const dispose = async () => {
    await runtime.dispose()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const scope = await runtime.runPromise(Scope.make())
    const worker: TenantWorker = await runtime.runPromise(
      Effect.flatMap(TenantWorkerPool, (pool) => pool.get(TENANT)).pipe(Scope.extend(scope))
    )
    let version = 0
    const revokeRoundTrip = async () => {
      const request = new Revoke({ jtis: [randomBytes(16).toString("base64url")], version: ++version })
      const start = performance.now()
      await Effect.runPromise(worker.executeEffect(request))
      return performance.now() - start
    }
    return {
      revokeRoundTrip,
      dispose: async () => {
        await Effect.runPromise(Scope.close(scope, Exit.void))
        await dispose()
      }
    }
  } catch (error) {
    await dispose()
    throw error
  }
}
