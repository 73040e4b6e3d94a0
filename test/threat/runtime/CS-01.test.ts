/**
 * CS-01 — an unsafe clock tolerance must stop the broker at boot, not quietly lengthen every token's life.
 */
import { describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, testWorkerEntry } from "../../support/broker.js"

describe("CS-01 clock tolerance is validated at boot", () => {
  for (const tolerance of [600, 31, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`CS-01 a broker configured with ${tolerance} s tolerance refuses to start with E_CONFIG`, async () => {
      const started = startBroker({
        team: testTeam,
        workerEntry: testWorkerEntry,
        config: { clockToleranceSec: tolerance }
      })
      await expect(started).rejects.toThrow(/E_CONFIG|IdentityConfigError|clock_tolerance/)
    })
  }

  it("CS-01 the largest allowed tolerance (30 s) boots", async () => {
    const broker = await startBroker({
      team: testTeam,
      workerEntry: testWorkerEntry,
      config: { clockToleranceSec: 30 }
    })
    await broker.stop()
  })
})
