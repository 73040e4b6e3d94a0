/**
 * The worker side of the channel: `@effect/platform-node`'s worker runner over `parentPort`, with one
 * change — every answer is size-checked before it is posted. An answer over the cap is never transferred:
 * the call fails instead with `RemoteFailure` `E_RESOURCE_LIMIT` (threat RE-02: a buffer bomb is refused
 * before transfer, since `resourceLimits` bound only the JS heap).
 */
import { WorkerError } from "@effect/platform/WorkerError"
import * as Runner from "@effect/platform/WorkerRunner"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as WorkerThreads from "node:worker_threads"
import { inspect } from "./messageSize.js"

const OVERSIZED = { _tag: "RemoteFailure", code: "E_RESOURCE_LIMIT", reason: "message over the size limit" }

/** The runner layer; `limit()` is the current cap in bytes (set from the `InitialMessage`). */
export const layer = (limit: () => number): Layer.Layer<Runner.PlatformRunner> =>
  Layer.succeed(
    Runner.PlatformRunner,
    Runner.PlatformRunner.of({
      [Runner.PlatformRunnerTypeId]: Runner.PlatformRunnerTypeId,
      start<I, O>(closeLatch: Deferred.Deferred<void, WorkerError>) {
        return Effect.gen(function* () {
          const port = WorkerThreads.parentPort
          if (port === null) {
            return yield* new WorkerError({ reason: "spawn", cause: new Error("not in a worker") })
          }
          // Calls whose answer was refused: anything more the runner sends for them is dropped.
          const refused = new Set<number>()
          const send = (_portId: number, message: O, transfers?: ReadonlyArray<unknown>) =>
            Effect.suspend(() => {
              const [id, kind] = message as unknown as [number, number]
              if (refused.has(id)) {
                if (kind !== 0) refused.delete(id)
                return Effect.void
              }
              if (inspect(message, limit())._tag === "too_large") {
                // The call fails at the broker, which then interrupts it here; the rest of its answer is
                // dropped until the runner's closing message for it.
                if (kind === 0) refused.add(id)
                port.postMessage([1, [id, 2, OVERSIZED]])
                return Effect.void
              }
              port.postMessage([1, message], transfers as Array<WorkerThreads.Transferable> | undefined)
              return Effect.void
            })

          const run = Effect.fnUntraced(function* <A, E, R>(
            // biome-ignore lint/suspicious/noConfusingVoidType: the platform's BackingRunner handler type
            handler: (portId: number, message: I) => Effect.Effect<A, E, R> | void
          ) {
            const runtime = (yield* Effect.interruptible(Effect.runtime<R | Scope.Scope>())).pipe(
              Runtime.updateContext(Context.omit(Scope.Scope))
            ) as Runtime.Runtime<R>
            const fiberSet = yield* FiberSet.make<unknown, WorkerError | E>()
            const runFork = Runtime.runFork(runtime)
            const onExit = (exit: Exit.Exit<unknown, E>) => {
              if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
                Deferred.unsafeDone(closeLatch, Exit.die(Cause.squash(exit.cause)))
              }
            }
            port.on("message", (message: Runner.BackingRunner.Message<I>) => {
              if (message[0] === 0) {
                const result = handler(0, message[1])
                if (Effect.isEffect(result)) {
                  const fiber = runFork(result)
                  fiber.addObserver(onExit)
                  FiberSet.unsafeAdd(fiberSet, fiber)
                }
              } else {
                port.close()
                Deferred.unsafeDone(closeLatch, Exit.void)
              }
            })
            port.on("messageerror", (cause) => {
              Deferred.unsafeDone(closeLatch, new WorkerError({ reason: "decode", cause }))
            })
            port.postMessage([0])
          })

          return { run, send }
        })
      }
    })
  )
