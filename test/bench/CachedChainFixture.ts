/**
 * Set-ups of the benchmarks that verify with the verified-chain prefix cache
 * (`makeVerifiedChainCache`, passed as `VerifyOptions.cache`): one new link under a cached prefix
 * (`identity.hop.depth<N>`), and a fully cached chain (`identity.cached`).
 *
 * @module
 */
import {
  makeVerifiedChainCache,
  type VerifiedChainCache,
  type VerifyOptions,
  verifyChain
} from "@cordon/identity/Verifier"
import { Effect } from "effect"
import { agentName, makeIdentity } from "./IdentityFixtures.js"

/** Measured and warm-up iterations of a hop benchmark: each consumes one distinct leaf. */
export const HOP_ITERATIONS = 1000
export const HOP_WARMUP = 100

/** State of a cached-verification benchmark. */
export interface CachedState {
  /** One verification; fails the benchmark if the chain does not verify. */
  readonly verify: () => Promise<unknown>
  readonly dispose: () => Promise<void>
}

const verifier = (options: VerifyOptions) => (chain: ReadonlyArray<string>) =>
  Effect.runPromise(verifyChain(chain, options))

/**
 * Verifies `chain` once and checks the cache served exactly `hits` links and had `misses` failed lookups
 * (the verifier stops looking up after the first miss), so the benchmark measures the path its name says.
 */
const expectCacheUse = async (
  cache: VerifiedChainCache,
  verify: (chain: ReadonlyArray<string>) => Promise<unknown>,
  chain: ReadonlyArray<string>,
  expected: { readonly hits: number; readonly misses: number }
) => {
  const before = cache.stats()
  await verify(chain)
  const after = cache.stats()
  const hits = after.hits - before.hits
  const misses = after.misses - before.misses
  if (hits !== expected.hits || misses !== expected.misses) {
    throw new Error(
      `cache served ${hits} links and missed ${misses}; expected ${expected.hits} and ${expected.misses}`
    )
  }
}

/** Verifies `chain` into an empty `cache` and checks every link was stored. */
const warm = async (
  cache: VerifiedChainCache,
  verify: (chain: ReadonlyArray<string>) => Promise<unknown>,
  chain: ReadonlyArray<string>
) => {
  await verify(chain)
  if (cache.size() !== chain.length) throw new Error(`cache holds ${cache.size()} links, not ${chain.length}`)
}

/**
 * A hop at depth `depth`: a cached prefix of `depth` links (`a0` … `a<depth-1>`) and enough distinct leaves
 * (`a<depth>`, each minted by its own token exchange from the prefix) that every iteration, warm-up
 * included, verifies a leaf the cache has never seen. Running past the pool fails the benchmark.
 */
export const setupHop = (depth: number) => async (): Promise<CachedState> => {
  const identity = await makeIdentity()
  const prefix = await identity.chain(depth)
  // +3: one for the check below, one for tinybench's call detecting whether the task is async, one spare.
  const leaves = HOP_ITERATIONS + HOP_WARMUP + 3
  const chains: Array<ReadonlyArray<string>> = []
  for (let i = 0; i < leaves; i++) {
    chains.push([...prefix, (await identity.exchange(prefix, agentName(depth))).token])
  }
  const cache = makeVerifiedChainCache({ maxEntries: 2 * leaves + 64 })
  const verify = verifier({ ...(await identity.verifyOptions()), cache })
  await warm(cache, verify, prefix)
  await expectCacheUse(cache, verify, chains[0]!, { hits: depth, misses: 1 })
  let next = 1
  return {
    verify: () => {
      const chain = chains[next++]
      if (chain === undefined) return Promise.reject(new Error("hop benchmark ran out of fresh leaves"))
      return verify(chain)
    },
    dispose: () => identity.dispose()
  }
}

/** A depth-4 chain (five links) already verified once through the cache. */
export const setupCached = async (): Promise<CachedState> => {
  const identity = await makeIdentity()
  const chain = await identity.chain(5)
  const cache = makeVerifiedChainCache({ maxEntries: 64 })
  const verify = verifier({ ...(await identity.verifyOptions()), cache })
  await warm(cache, verify, chain)
  await expectCacheUse(cache, verify, chain, { hits: 5, misses: 0 })
  return { verify: () => verify(chain), dispose: () => identity.dispose() }
}
