/**
 * Fuzzing (issue 7 item 4): ≥ 100,000 generated inputs across token verification, worker messages and the
 * HTTP API; every one must be refused without a crash. Prints `fuzz inputs: N, crashes: C, accepted: A`.
 */
import { afterAll, describe, expect, it } from "vitest"
import type { FuzzTally } from "./tally.js"
import { fuzzHttp } from "./httpFuzz.js"
import { fuzzProtocol } from "./protocolFuzz.js"
import { fuzzTokens } from "./tokenFuzz.js"

const SEED = 20_250_615
const tallies: Array<FuzzTally> = []

afterAll(() => {
  const sum = (k: "inputs" | "crashes" | "accepted") => tallies.reduce((s, t) => s + t[k], 0)
  for (const t of tallies)
    console.log(`  ${t.target}: ${t.inputs} inputs, ${t.crashes} crashes, ${t.accepted} accepted`)
  console.log(
    `fuzz inputs: ${sum("inputs")}, crashes: ${sum("crashes")}, accepted: ${sum("accepted")} (seed ${SEED})`
  )
})

const expectClean = (tally: FuzzTally, minimum: number) => {
  tallies.push(tally)
  expect(tally.findings).toEqual([])
  expect(tally.crashes).toBe(0)
  expect(tally.accepted).toBe(0)
  expect(tally.inputs).toBeGreaterThanOrEqual(minimum)
}

describe("fuzzing", () => {
  it("token verification refuses every random or mutated compact JWS and chain, without crashing", async () => {
    expectClean(await fuzzTokens(45_000, SEED), 45_000)
  })

  it("worker-message decoding rejects every mutated or random message, never throws", () => {
    expectClean(fuzzProtocol(55_000, SEED), 55_000)
  })

  it("the HTTP API answers every unauthenticated or impossible request with a 4xx, never a 5xx", async () => {
    expectClean(await fuzzHttp(2_500, SEED), 2_500)
  })
})
