/**
 * MC-05: a credential-shaped value never lands in a session cache: the write is refused with
 * `E_SECRET_IN_CACHE`, and the cache's database, `-wal` and `-shm` files hold no byte of the token.
 * Real broker, real tenant workers, real SQLite files.
 */
import * as fs from "node:fs"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testTeam } from "../../fixtures/team.js"
import { startBroker, type TestBroker, testWorkerEntry } from "../../support/broker.js"
import { type Caller, cacheFiles, cachebot, caller, openSession, scan } from "./support.js"

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const TOKEN = [
  b64url({ alg: "EdDSA", typ: "cordon-task+jwt", kid: "k1" }),
  b64url({ sub: "spiffe://cordon.test/tenant/acme/agent/lead", scp: ["mail:send"], exp: 4102444800 }),
  "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1tYzA1"
].join(".")
const SIGNATURE = TOKEN.split(".")[2]!

let broker: TestBroker
let acme: Caller

beforeAll(async () => {
  broker = await startBroker({ team: testTeam, workerEntry: testWorkerEntry })
  acme = await caller(broker, "acme")
})

// The test submits a token inside a task's input on purpose (the caller's own data, kept in the task row),
// so the data-directory scan would flag it: run the audit and ledger oracles only.
afterAll(() => broker.stop({ oracles: "audit-and-ledger" }))

describe("MC-05 credentials in caches", () => {
  it("MC-05 a JWT-like write → SecretInCacheError; the DB, -wal and -shm hold 0 token bytes", async () => {
    const session = await openSession(broker, acme)
    const benign = await cachebot(broker, acme, session, { mode: "remember", text: "customer prefers email" })
    expect(benign.status).toBe("succeeded")
    const refused = await cachebot(broker, acme, session, {
      mode: "remember",
      text: `tool result: Authorization: Bearer ${TOKEN}`
    })
    expect(refused.status).toBe("failed")
    expect(refused.error?.code).toBe("E_SECRET_IN_CACHE")
    expect(JSON.stringify(refused.error)).not.toContain(SIGNATURE)

    const recall = await cachebot(broker, acme, session, {
      mode: "recall",
      text: "bearer token authorization"
    })
    expect(recall.output).toEqual({ texts: ["customer prefers email"], entries: 2 })
    expect(await scan(broker, acme, session, [TOKEN, SIGNATURE])).toEqual(Either.right([0, 0]))

    const files = cacheFiles(broker, "acme", session)
    expect(fs.existsSync(files[0])).toBe(true)
    for (const file of files.filter((f) => fs.existsSync(f))) {
      const bytes = fs.readFileSync(file)
      for (const needle of [TOKEN, SIGNATURE, TOKEN.split(".")[1]!])
        expect(bytes.includes(Buffer.from(needle)), `${file} ${needle.slice(0, 8)}`).toBe(false)
    }
  })
})
