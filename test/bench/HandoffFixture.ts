/**
 * A whole handoff as the broker performs it, over real services: the Cedar `Handoff` decision
 * (`Authorizer.authorize`), the token exchange (`TokenService.exchange`: verify the parent chain, mint
 * the child) and the credential record in the control-plane SQLite store (`Credentials.record`, on a
 * file in a fresh temporary directory).
 *
 * @module
 */
import { TokenService } from "@cordon/identity/TokenService"
import { Authorizer } from "@cordon/policy/Authorizer"
import type { PolicyRequestInput as PolicyRequest } from "@cordon/policy/PolicyRequest"
import * as ControlPlane from "@cordon/store/ControlPlane"
import { Credentials } from "@cordon/store/Credentials"
import { Effect, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import {
  agentName,
  agentUri,
  INTENT,
  MAX_DEPTH,
  makeIdentity,
  SCOPES,
  SESSION,
  TENANT,
  TRUST_DOMAIN,
  TTL_SEC,
  TXN
} from "./IdentityFixtures.js"

/** State of the handoff benchmark. */
export interface HandoffState {
  /** One handoff from the root agent `a0` to `a1`; each run mints and records a new credential. */
  readonly handoff: () => Promise<void>
  readonly dispose: () => Promise<void>
}

/**
 * Starts the services, mints the parent (a root token for `a0`) and checks one handoff succeeds with an
 * `allow` decision, so that the benchmark measures the path that mints.
 */
export const setupHandoff = async (): Promise<HandoffState> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cordon-bench-"))
  const store = ControlPlane.layerWithServices({ filename: path.join(dir, "control-plane.sqlite") })
  const identity = await makeIdentity(Layer.merge(Authorizer.layer, store))
  const parent = await identity.mintRoot()
  const from = agentName(0)
  const to = agentName(1)
  const request: PolicyRequest = {
    principal: { tenant: TENANT, agent: from, spiffeId: agentUri(from), handoffs: [to] },
    action: "Handoff",
    resource: { type: "Agent", tenant: TENANT, name: to, spiffeId: agentUri(to), handoffs: [] },
    context: {
      tenant: TENANT,
      session: SESSION,
      intent: { name: INTENT, tools: [], agents: [from, to] },
      depth: parent.claims.dep,
      actors: [parent.claims.sub],
      now: 0
    }
  }

  const handoff = Effect.gen(function* () {
    const authorizer = yield* Authorizer
    const tokens = yield* TokenService
    const credentials = yield* Credentials
    const decision = yield* authorizer.authorize({
      ...request,
      context: { ...request.context, now: Math.floor(Date.now() / 1000) }
    })
    if (decision.decision !== "allow") return yield* Effect.dieMessage(`handoff denied: ${decision.code}`)
    const minted = yield* tokens.exchange({
      tenant: TENANT,
      chain: [parent.token],
      toAgent: to,
      intent: INTENT,
      requestedScopes: SCOPES,
      allowedScopes: SCOPES,
      ttlSeconds: TTL_SEC,
      maxDepth: MAX_DEPTH,
      trustDomain: TRUST_DOMAIN
    })
    yield* credentials.record({
      jti: minted.claims.jti,
      tenant: TENANT,
      session: SESSION,
      task: TXN,
      agent: to,
      exp: minted.claims.exp
    })
  }).pipe(Effect.orDieWith((e) => new Error(`handoff failed: ${e._tag}`)))

  const run = () => identity.runtime.runPromise(handoff)
  await run()
  return {
    handoff: run,
    dispose: async () => {
      await identity.dispose()
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
}
