/**
 * Shared set-up of the identity benchmarks: a broker-side identity runtime (in-memory key ring,
 * revocation list, token service) for one tenant, delegation chains minted through real token exchanges,
 * and the verifier options a broker would pass.
 *
 * @module
 */
import type { TaskClaims } from "@cordon/identity/Claims"
import { KeyRing } from "@cordon/identity/KeyRing"
import { RevocationList } from "@cordon/identity/RevocationList"
import { type MintedToken, TokenService } from "@cordon/identity/TokenService"
import type { VerifyOptions } from "@cordon/identity/Verifier"
import { Effect, Layer, ManagedRuntime } from "effect"

export const TENANT = "bench"
export const TRUST_DOMAIN = "cordon.local"
export const SESSION = "s-bench"
export const USER = "user-bench"
export const TXN = "task-bench"
export const INTENT = "bench.run"
export const SCOPES: ReadonlyArray<string> = ["mail:read", "mail:send", "probe:read"]
/** Largest depth any benchmark builds (`identity.hop.depth8`); chains hold at most 9 links. */
export const MAX_DEPTH = 8
/** Token lifetime, seconds: the service maximum, so tokens outlive every benchmark. */
export const TTL_SEC = 300

/** Agent `i` of a chain: `a0` holds the root token, `a<i>` the link at depth `i`. */
export const agentName = (i: number): string => `a${i}`

/** SPIFFE ID of one of the benchmark tenant's agents. */
export const agentUri = (agent: string): string => `spiffe://${TRUST_DOMAIN}/tenant/${TENANT}/agent/${agent}`

const identityLayer = TokenService.layer.pipe(
  Layer.provideMerge(Layer.merge(KeyRing.layer, RevocationList.layer))
)

/** Identity services of one broker. */
export type IdentityServices = TokenService | KeyRing | RevocationList

/** A running identity runtime (plus any extra services) and the helpers the benchmarks use. */
export interface Identity<R = never, E = never> {
  readonly runtime: ManagedRuntime.ManagedRuntime<IdentityServices | R, E>
  /** Mints a root token for `a0`. */
  readonly mintRoot: () => Promise<MintedToken>
  /** Exchanges `chain` (root first) for a token issued to `toAgent`, all scopes kept. */
  readonly exchange: (chain: ReadonlyArray<string>, toAgent: string) => Promise<MintedToken>
  /** A chain of `links` tokens, root first: `a0` → `a1` → … (so its leaf has depth `links - 1`). */
  readonly chain: (links: number) => Promise<ReadonlyArray<string>>
  /** What the broker passes to `verifyChain` for this tenant, at the current time. */
  readonly verifyOptions: () => Promise<VerifyOptions>
  readonly dispose: () => Promise<void>
}

/**
 * Starts an identity runtime, with the services of `extra` beside it (e.g. the authoriser and the
 * control-plane store); the tenant's key is created by the first mint.
 */
export const makeIdentity = async <R = never, E = never>(
  extra?: Layer.Layer<R, E>
): Promise<Identity<R, E>> => {
  const runtime = ManagedRuntime.make(
    extra === undefined
      ? (identityLayer as Layer.Layer<IdentityServices | R, E>)
      : Layer.merge(identityLayer, extra)
  )
  const tokens = await runtime.runPromise(TokenService)
  const revocations = await runtime.runPromise(RevocationList)

  const mintRoot = () =>
    runtime.runPromise(
      tokens.mintRoot({
        tenant: TENANT,
        session: SESSION,
        user: USER,
        txn: TXN,
        agent: agentName(0),
        intent: INTENT,
        scopes: SCOPES,
        ttlSeconds: TTL_SEC,
        notAfter: Math.floor(Date.now() / 1000) + 3600,
        trustDomain: TRUST_DOMAIN
      })
    )

  const exchange = (chain: ReadonlyArray<string>, toAgent: string) =>
    runtime.runPromise(
      tokens.exchange({
        tenant: TENANT,
        chain,
        toAgent,
        intent: INTENT,
        requestedScopes: SCOPES,
        allowedScopes: SCOPES,
        ttlSeconds: TTL_SEC,
        maxDepth: MAX_DEPTH,
        trustDomain: TRUST_DOMAIN
      })
    )

  const chain = async (links: number) => {
    const out = [(await mintRoot()).token]
    for (let i = 1; i < links; i++) out.push((await exchange(out, agentName(i))).token)
    return out
  }

  const verifyOptions = async (): Promise<VerifyOptions> => ({
    tenant: TENANT,
    issuer: tokens.issuer(TENANT),
    jwks: await runtime.runPromise(tokens.jwks(TENANT)),
    isRevoked: revocations.isRevoked,
    now: new Date(),
    maxDepth: MAX_DEPTH
  })

  return { runtime, mintRoot, exchange, chain, verifyOptions, dispose: () => runtime.dispose() }
}

/** The signing input (`header.payload`, ASCII) of a compact token. */
export const signingInput = (compact: string): Buffer =>
  Buffer.from(compact.slice(0, compact.lastIndexOf(".")), "ascii")

/** Decoded claims of a compact token, without verification (for building requests in set-up only). */
export const peekClaims = (compact: string): TaskClaims =>
  JSON.parse(Buffer.from(compact.split(".")[1] ?? "", "base64url").toString("utf8")) as TaskClaims

/** Runs `effect` and fails loudly (a benchmark must never measure a failure path by accident). */
export const runOrThrow = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Effect.orDieWith(effect, (e) => new Error(`unexpected failure: ${JSON.stringify(e)}`)))
