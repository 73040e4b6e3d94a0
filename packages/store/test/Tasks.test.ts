import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { afterAll } from "vitest"
import { type NewTask, Tasks } from "../src/index.js"
import { backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

const task = (id: string, tenant = "acme"): NewTask => ({
  id,
  tenant,
  session: `${tenant}-s1`,
  agent: "triage",
  intent: "triage-inbox",
  input: { mailbox: "inbox", limit: 10, tags: ["a", "b"] }
})

for (const backend of backends) {
  describe(`Tasks (${backend.name})`, () => {
    it.effect("create queues the task with its JSON input; get returns it for its own tenant", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* TestClock.adjust(7)
        const created = yield* tasks.create(task("t1"))
        expect(created).toMatchObject({
          id: "t1",
          tenant: "acme",
          status: "queued",
          input: { mailbox: "inbox", limit: 10, tags: ["a", "b"] },
          output: null,
          createdAt: 7,
          startedAt: null,
          endedAt: null
        })
        expect(yield* tasks.get("acme", "t1")).toEqual(Option.some(created))
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("IP-01 store reads: get of another tenant's task is None", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* tasks.create(task("victim-task", "globex"))
        expect(Option.isNone(yield* tasks.get("acme", "victim-task"))).toBe(true)
        expect(Option.isSome(yield* tasks.get("globex", "victim-task"))).toBe(true)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("lifecycle: running then succeeded with output; the first outcome wins", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* tasks.create(task("t1"))
        yield* TestClock.adjust(10)
        expect(yield* tasks.markRunning("t1")).toBe(true)
        expect(yield* tasks.markRunning("t1")).toBe(false)
        yield* TestClock.adjust(10)
        expect(yield* tasks.complete("t1", { status: "succeeded", output: { drafted: 3 } })).toBe(true)
        expect(
          yield* tasks.complete("t1", { status: "failed", errorCode: "E_X", errorMessage: "late failure" })
        ).toBe(false)
        expect(yield* tasks.markRunning("t1")).toBe(false)
        const done = Option.getOrThrow(yield* tasks.get("acme", "t1"))
        expect(done).toMatchObject({
          status: "succeeded",
          output: { drafted: 3 },
          errorCode: null,
          errorMessage: null,
          startedAt: 10,
          endedAt: 20
        })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("failed and cancelled keep the error code and message", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* tasks.create(task("t1"))
        yield* tasks.create(task("t2"))
        yield* tasks.markRunning("t1")
        yield* tasks.complete("t1", {
          status: "failed",
          errorCode: "E_TASK_TIMEOUT",
          errorMessage: "deadline"
        })
        yield* tasks.complete("t2", {
          status: "cancelled",
          errorCode: "E_CANCELLED",
          errorMessage: "by user"
        })
        const t1 = Option.getOrThrow(yield* tasks.get("acme", "t1"))
        const t2 = Option.getOrThrow(yield* tasks.get("acme", "t2"))
        expect([t1.status, t1.errorCode, t1.errorMessage, t1.output]).toEqual([
          "failed",
          "E_TASK_TIMEOUT",
          "deadline",
          null
        ])
        expect([t2.status, t2.errorCode, t2.startedAt]).toEqual(["cancelled", "E_CANCELLED", null])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect(
      "G-LOSS ledger: submitted = queued + running + succeeded + failed + cancelled + dead-lettered",
      () =>
        Effect.gen(function* () {
          const tasks = yield* Tasks
          for (const id of ["q1", "q2", "r1", "s1", "s2", "f1", "c1", "d1"]) yield* tasks.create(task(id))
          yield* tasks.create(task("g1", "globex"))
          yield* tasks.markRunning("r1")
          yield* tasks.complete("d1", { status: "dead_lettered", errorCode: "E", errorMessage: "m" })
          yield* tasks.complete("s1", { status: "succeeded", output: null })
          yield* tasks.complete("s2", { status: "succeeded", output: 1 })
          yield* tasks.complete("f1", { status: "failed", errorCode: "E", errorMessage: "m" })
          yield* tasks.complete("c1", { status: "cancelled", errorCode: "E", errorMessage: "m" })
          expect(yield* tasks.ledger()).toEqual({
            submitted: 9,
            queued: 3,
            running: 1,
            succeeded: 2,
            failed: 1,
            cancelled: 1,
            deadLettered: 1
          })
          expect(yield* tasks.ledger("acme")).toEqual({
            submitted: 8,
            queued: 2,
            running: 1,
            succeeded: 2,
            failed: 1,
            cancelled: 1,
            deadLettered: 1
          })
          expect((yield* tasks.ledger("nobody")).submitted).toBe(0)
        }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("a crashed running task goes back to the queue with its crash counted; only running ones", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        yield* tasks.create(task("r1"))
        yield* tasks.create(task("q1"))
        expect(yield* tasks.requeue("r1", "E_WORKER_CRASHED", "crashed")).toBe(false)
        yield* tasks.markRunning("r1")
        expect(yield* tasks.requeue("r1", "E_WORKER_CRASHED", "crashed")).toBe(true)
        yield* tasks.markRunning("r1")
        const again = yield* tasks.get("acme", "r1")
        expect(Option.getOrThrow(again)).toMatchObject({ status: "running", attempts: 2, crashes: 1 })
        expect((yield* tasks.listByStatus(["queued"])).map((t) => t.id)).toEqual(["q1"])
        expect((yield* tasks.listByStatus(["running"])).map((t) => t.id)).toEqual(["r1"])
        expect(yield* tasks.activeInSession("acme", "acme-s1")).toHaveLength(2)
        yield* tasks.complete("r1", {
          status: "dead_lettered",
          errorCode: "E_WORKER_CRASHED",
          errorMessage: "m"
        })
        expect(yield* tasks.markRunning("r1")).toBe(false)
        expect(yield* tasks.requeue("r1", "E", "m")).toBe(false)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("an input that is not JSON-serialisable fails with E_STORE and stores nothing", () =>
      Effect.gen(function* () {
        const tasks = yield* Tasks
        const error = yield* Effect.flip(tasks.create({ ...task("t1"), input: { n: 1n } }))
        expect(error).toMatchObject({ _tag: "StoreError", code: "E_STORE" })
        expect(Option.isNone(yield* tasks.get("acme", "t1"))).toBe(true)
        expect((yield* tasks.ledger()).submitted).toBe(0)
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
