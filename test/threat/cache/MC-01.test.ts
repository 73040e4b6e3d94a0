/**
 * MC-01: a canary one session stores in its cache reaches no other session, of another tenant or of the
 * same tenant, through answers, caches or files; code running for one session cannot open another
 * session's cache by any route a worker offers. Real broker, real tenant workers, real SQLite files.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"
import { type Caller, cacheFiles, cachebot, caller, filesContaining, openSession, scan } from "./support.js"

const CANARY = "CANARY-mc01-5e7d1a: the customer said their account number is 4471-0092"
const QUESTION = "what did the last customer say about their account number?"

let broker: TestBroker
let acme: Caller
let globex: Caller
let s1: string

beforeAll(async () => {
  broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  acme = await caller(broker, "acme")
  globex = await caller(broker, "globex")
  s1 = await openSession(broker, acme)
  const stored = await cachebot(broker, acme, s1, { mode: "remember", text: CANARY })
  expect(stored.status).toBe("succeeded")
})

afterAll(() => broker.stop())

describe("MC-01 cross-session and cross-tenant cache leakage", () => {
  it("MC-01 the canary is in S1's own cache (the probes below can see it)", async () => {
    const own = await cachebot(broker, acme, s1, { mode: "recall", text: QUESTION })
    expect(own.status).toBe("succeeded")
    expect(own.raw).toContain(CANARY)
    const counts = await scan(broker, acme, s1, [CANARY])
    expect(counts, JSON.stringify(counts)).toEqual(Either.right([1]))
    // sealed at rest: not even S1's own files hold the canary's bytes
    expect(filesContaining(path.join(broker.dataDir, "tenants"), CANARY)).toEqual([])
  })

  it("MC-01 tenant B's session and tenant A's other session find 0 canaries in answers and caches", async () => {
    for (const [who, label] of [
      [globex, "tenant B"],
      [acme, "A's other session"]
    ] as const) {
      const s2 = await openSession(broker, who)
      const answer = await cachebot(broker, who, s2, { mode: "recall", text: QUESTION })
      expect(answer.status, label).toBe("succeeded")
      expect(answer.output, label).toEqual({ texts: [], entries: 0 })
      expect(answer.raw, label).not.toContain("4471-0092")
      expect(await scan(broker, who, s2, [CANARY, "4471-0092"]), label).toEqual(Either.right([0, 0]))
      expect(fs.existsSync(cacheFiles(broker, who.tenant, s2)[0]), label).toBe(true)
    }
  })

  it("MC-01 S2 opening S1's cache (registry or file path) → CacheScopeError, never data", async () => {
    const cases = [
      [acme, ["CacheScopeError:E_CACHE_SCOPE"]],
      [globex, ["CacheScopeError:E_CACHE_SCOPE", "CacheScopeError:E_TENANT_MISMATCH"]]
    ] as const
    for (const [who, codes] of cases) {
      const s2 = await openSession(broker, who)
      const peek = await cachebot(broker, who, s2, { mode: "peek", target: `acme/${s1}` })
      expect(peek.status, peek.raw).toBe("succeeded")
      const { attempts } = peek.output as {
        attempts: Array<{ via: string; outcome: string; texts: Array<string> }>
      }
      expect(attempts.map((a) => a.via)).toEqual(["registry.get", "registry.open", "path"])
      for (const a of attempts) {
        expect(codes as ReadonlyArray<string>, `${who.tenant} ${a.via}`).toContain(a.outcome)
        expect(a.texts).toEqual([])
      }
      expect(peek.raw).not.toContain(CANARY)
    }
    // S1's cache is untouched by the attempts
    expect(await scan(broker, acme, s1, [CANARY])).toEqual(Either.right([1]))
  })

  it("MC-01 acceptance: tenant A's session file copied to tenant B's session path → typed error, never data", async () => {
    const victim = await openSession(broker, globex)
    const from = cacheFiles(broker, "acme", s1)
    const to = cacheFiles(broker, "globex", victim)
    fs.mkdirSync(path.dirname(to[0]), { recursive: true })
    from.forEach((file, i) => {
      if (fs.existsSync(file)) fs.copyFileSync(file, to[i]!)
    })
    const answer = await cachebot(broker, globex, victim, { mode: "recall", text: QUESTION })
    expect(answer.status).toBe("failed")
    expect(answer.error?.code).toBe("E_CACHE")
    expect(answer.raw).not.toContain("4471-0092")
    const probe = await scan(broker, globex, victim, [CANARY])
    expect(Either.isLeft(probe)).toBe(true)
    expect(JSON.stringify(probe)).not.toContain("4471-0092")
  })
})
