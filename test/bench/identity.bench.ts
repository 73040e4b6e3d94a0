/**
 * Identity benchmarks: raw Ed25519 as the baseline, delegation-chain verification cold, per hop with the
 * verified-chain prefix cache warm, fully cached, a whole broker handoff, and revocation propagation to
 * a tenant worker.
 *
 * @module
 */
import { type VerifyOptions, verifyChain } from "@cordon/identity/Verifier"
import { Effect } from "effect"
import { generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto"
import { bench } from "./Bench.js"
import { type CachedState, HOP_ITERATIONS, HOP_WARMUP, setupCached, setupHop } from "./CachedChainFixture.js"
import { type HandoffState, setupHandoff } from "./HandoffFixture.js"
import { type Identity, makeIdentity, signingInput } from "./IdentityFixtures.js"
import { type RevocationState, setupRevocation } from "./RevocationFixture.js"

interface RawState {
  readonly data: Buffer
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly signature: Buffer
}

/**
 * A node:crypto Ed25519 key pair and, as the message, the signing input of a real depth-4 task token
 * (`header.payload` of the leaf of a five-link chain).
 */
const setupRaw = async (): Promise<RawState> => {
  const identity = await makeIdentity()
  const chain = await identity.chain(5)
  await identity.dispose()
  const data = signingInput(chain[chain.length - 1]!)
  const { privateKey, publicKey } = generateKeyPairSync("ed25519")
  const signature = sign(null, data, privateKey)
  if (!verify(null, data, publicKey, signature)) throw new Error("raw Ed25519 signature does not verify")
  return { data, privateKey, publicKey, signature }
}

interface ChainState {
  readonly identity: Identity
  readonly chain: ReadonlyArray<string>
  readonly options: VerifyOptions
}

/** A depth-4 chain (five links) and the broker's verifier options, without a cache. */
const setupColdChain = async (): Promise<ChainState> => {
  const identity = await makeIdentity()
  const chain = await identity.chain(5)
  const options = await identity.verifyOptions()
  await Effect.runPromise(verifyChain(chain, options))
  return { identity, chain, options }
}

/** `identity.hop.depth<depth>`: a fixed number of iterations, one fresh leaf each. */
const hop = (depth: number) =>
  bench<CachedState>({
    name: `identity.hop.depth${depth}`,
    unit: "us",
    baseline: "identity.raw.verify",
    setup: setupHop(depth),
    run: (s) => s.verify(),
    teardown: (s) => s.dispose(),
    iterations: HOP_ITERATIONS,
    time: 0,
    warmupIterations: HOP_WARMUP,
    warmupTime: 0,
    note: () => `${depth + 1} links: ${depth} from the cache, a new leaf verified`
  })

export const benches = [
  bench({
    name: "identity.raw.sign",
    unit: "us",
    setup: setupRaw,
    run: (s) => {
      sign(null, s.data, s.privateKey)
    },
    note: () => "node:crypto Ed25519, token signing input"
  }),
  bench({
    name: "identity.raw.verify",
    unit: "us",
    setup: setupRaw,
    run: (s) => {
      if (!verify(null, s.data, s.publicKey, s.signature)) throw new Error("signature does not verify")
    },
    note: () => "node:crypto Ed25519, token signing input"
  }),
  bench({
    name: "identity.chain.cold.depth4",
    unit: "us",
    baseline: "identity.raw.verify",
    setup: setupColdChain,
    run: (s) => Effect.runPromise(verifyChain(s.chain, s.options)),
    teardown: (s) => s.identity.dispose(),
    note: () => "verifyChain, 5 links, no cache"
  }),
  hop(1),
  hop(4),
  hop(8),
  bench<CachedState>({
    name: "identity.cached",
    unit: "us",
    baseline: "identity.raw.verify",
    setup: setupCached,
    run: (s) => s.verify(),
    teardown: (s) => s.dispose(),
    note: () => "5 links, all from the cache (expiry, revocation rechecked)"
  }),
  bench<HandoffState>({
    name: "identity.handoff",
    unit: "us",
    baseline: "identity.raw.sign",
    setup: setupHandoff,
    run: (s) => s.handoff(),
    teardown: (s) => s.dispose(),
    note: (median) => {
      const signUs = median("identity.raw.sign")
      const verifyUs = median("identity.raw.verify")
      if (signUs === undefined || verifyUs === undefined) return undefined
      return `target <= 4 x (sign + verify) = ${((4 * (signUs + verifyUs)) / signUs).toFixed(2)}x`
    }
  }),
  bench<RevocationState>({
    name: "identity.revocation.propagation",
    unit: "ms",
    sample: "returned",
    setup: setupRevocation,
    run: (s) => s.revokeRoundTrip(),
    teardown: (s) => s.dispose(),
    note: () => "Revoke to a live tenant worker until its ack"
  })
]
