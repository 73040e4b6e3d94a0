import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as vm from "node:vm"
import { Worker } from "node:worker_threads"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import * as CodeCache from "../src/internal/codeCache.js"
import * as WorkerScript from "../src/internal/workerScript.js"
import { Ping } from "../src/Protocol.js"
import { fixture, makePool, type PoolHarness } from "./poolHarness.js"

const bundler = path.resolve(import.meta.dirname, "../../../scripts/bundle-worker.mjs")
let dir = ""
let bundle = ""

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-bundle-"))
  bundle = path.join(dir, "worker.mjs")
  execFileSync(process.execPath, [bundler, fixture("bundledWorker.ts"), bundle], { stdio: "pipe" })
}, 60_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

let h: PoolHarness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const options = (script: WorkerScript.WorkerScript, timeoutMs = 10_000): CodeCache.CodeCacheOptions => ({
  script,
  resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  maxMessageBytes: 1_048_576,
  trustDomain: "cordon.local",
  maxDepth: 4,
  clockToleranceSec: 5,
  revocationStaleMs: 60_000,
  timeoutMs
})

const loaded = (): WorkerScript.WorkerScript => {
  const script = WorkerScript.load(bundle)
  if (script === undefined) throw new Error("the bundle was not recognised")
  return script
}

describe("worker bundles", () => {
  it("a bundle built by scripts/bundle-worker.mjs is recognised; any other entry starts as a plain file", () => {
    expect(loaded().filename).toBe(bundle)
    expect(WorkerScript.load(fixture("fakeWorker.mjs"))).toBeUndefined()
    expect(WorkerScript.load(path.join(dir, "missing.mjs"))).toBeUndefined()
  })

  it("the bundle still starts as a plain ES module (its runner reports ready)", async () => {
    const first = await new Promise<unknown>((resolve, reject) => {
      const worker = new Worker(bundle, { env: {}, stdout: true, stderr: true })
      worker.once("message", (message) => void worker.terminate().then(() => resolve(message)))
      worker.once("error", reject)
    })
    expect(first).toEqual([0])
  })
})

describe("code cache", () => {
  it("is made by a throwaway thread and accepted by V8 for exactly the body it was made from", async () => {
    const script = loaded()
    const cache = await Effect.runPromise(CodeCache.make(options(script)))
    expect(cache).toBeInstanceOf(Uint8Array)
    const accepted = new vm.Script(script.source, { filename: script.filename, cachedData: cache })
    expect(accepted.cachedDataRejected).toBe(false)
    // Another source (here: one byte longer) is never run with that cache: V8 rejects it and compiles.
    const other = new vm.Script(`${script.source};`, { filename: script.filename, cachedData: cache })
    expect(other.cachedDataRejected).toBe(true)
  })

  it("is given up (no cache) when the thread does not answer in time", async () => {
    expect(await Effect.runPromise(CodeCache.make(options(loaded(), 1)))).toBeUndefined()
  })
})

describe("TenantWorkerPool over a bundle", () => {
  it("starts a fresh, booted worker per tenant; the cache-making thread is never counted or handed out", async () => {
    h = await makePool({ workerStartMs: 10_000 }, bundle)
    const pool = h.pool
    const ping = (tenant: string) =>
      Effect.flatMap(pool.get(tenant), (worker) =>
        Effect.map(worker.executeEffect(new Ping()), (answer) => ({ answer, threadId: worker.threadId }))
      )
    const first = await h.run(ping("acme"))
    // Later workers start from the cache once it is made; each is still its own thread.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const second = await h.run(ping("globex"))
    expect(await h.run(pool.terminate("acme"))).toBe(true)
    const third = await h.run(ping("acme"))
    expect([first.answer, second.answer, third.answer]).toEqual(["pong", "pong", "pong"])
    expect(new Set([first.threadId, second.threadId, third.threadId]).size).toBe(3)
    expect((await h.run(pool.stats)).spawned).toBe(3)
    expect(await h.run(pool.liveCount)).toBe(2)
  })
})
