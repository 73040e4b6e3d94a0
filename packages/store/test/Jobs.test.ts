import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Jobs, type NewJob } from "../src/index.js"
import { backends } from "./fixtures.js"

const job = (id: string, over: Partial<NewJob> = {}): NewJob => ({
  id,
  tenant: "acme",
  session: "s1",
  parentTask: "t0",
  agent: "runner",
  intent: "exec.run",
  input: { n: 1 },
  runAt: 1_000,
  deadline: 5_000,
  generation: 0,
  ...over
})

for (const backend of backends) {
  describe(`Jobs (${backend.name})`, () => {
    it.effect("due jobs in run order; a fired job never fires again", () =>
      Effect.gen(function* () {
        const jobs = yield* Jobs
        yield* jobs.create(job("j2", { runAt: 2_000 }))
        yield* jobs.create(job("j1", { runAt: 1_000 }))
        yield* jobs.create(job("j3", { runAt: 4_000 }))
        expect((yield* jobs.due(2_500, 10)).map((j) => j.id)).toEqual(["j1", "j2"])
        expect(yield* jobs.nextRunAt).toEqual(Option.some(1_000))
        expect(yield* jobs.markFired("j1", "task-1")).toBe(true)
        expect(yield* jobs.markFired("j1", "task-2")).toBe(false)
        expect(Option.getOrThrow(yield* jobs.byTask("task-1")).id).toBe("j1")
        expect((yield* jobs.due(2_500, 10)).map((j) => j.id)).toEqual(["j2"])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("cancelling a session's jobs is final and scoped to that tenant and session", () =>
      Effect.gen(function* () {
        const jobs = yield* Jobs
        yield* jobs.create(job("a1"))
        yield* jobs.create(job("a2", { session: "s2" }))
        yield* jobs.create(job("b1", { tenant: "globex" }))
        expect(yield* jobs.cancelSession("acme", "s1", "E_SESSION_CLOSED")).toEqual(["a1"])
        expect(yield* jobs.cancelSession("acme", "s1", "E_SESSION_CLOSED")).toEqual([])
        expect(yield* jobs.markFired("a1", "t")).toBe(false)
        expect(yield* jobs.pendingInSession("acme", "s2")).toBe(1)
        expect(yield* jobs.cancelTenant("acme", "E_TENANT_SUSPENDED")).toEqual(["a2"])
        expect(yield* jobs.pendingCount()).toBe(1)
        expect(Option.isNone(yield* jobs.get("acme", "b1"))).toBe(true)
        expect(Option.getOrThrow(yield* jobs.get("globex", "b1")).status).toBe("pending")
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("a job whose deadline precedes its run time is refused by the database", () =>
      Effect.gen(function* () {
        const jobs = yield* Jobs
        const error = yield* Effect.flip(jobs.create(job("bad", { runAt: 9_000, deadline: 1_000 })))
        expect(error._tag).toBe("SqlError")
        expect(yield* jobs.pendingCount("acme")).toBe(0)
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
