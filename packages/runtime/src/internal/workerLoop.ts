/**
 * The worker side of the channel: a lean server of the `@effect/platform` WorkerRunner wire protocol over
 * `parentPort` (`[0]` ready, `[1, [id, kind, data]]` answers; `[0, [id, 0, request]]` requests,
 * `[0, [id, 1]]` interrupts, `[1]` close), without the platform runner's per-request `Stream` and channel
 * machinery (the warm dispatch path runs here once per agent run).
 *
 * - Every request is decoded strictly (`onExcessProperty: "error"`) with a decoder built once; one that
 *   does not decode is answered `[id, 3]` (a defect: `E_WORKER_FAILED` at the broker) and never run.
 * - A defect, an interruption or an answer that does not encode is answered `[id, 3, null]`: the broker
 *   fails the call alike whatever such an answer holds, so nothing of the cause leaves the worker.
 * - Every answer is encoded with its request's success or failure schema (encoders built once per request
 *   tag) and size-checked before it is posted: an answer over the cap is never transferred, the call fails
 *   instead with `RemoteFailure` `E_RESOURCE_LIMIT` (threat RE-02: a buffer bomb is refused before
 *   transfer, since `resourceLimits` bound only the JS heap); the rest of that call's answers are dropped.
 * - Answers are posted through `parentPort.postMessage` looked up at each post.
 *
 * Answer kinds: `0` data, `1` end of a stream, `2` typed failure, `3` defect.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as WorkerThreads from "node:worker_threads"
import { inspect } from "./messageSize.js"

const OVERSIZED = { _tag: "RemoteFailure", code: "E_RESOURCE_LIMIT", reason: "message over the size limit" }

/** Emits one stream element of a running call; `false` once the call has ended (nothing more is sent). */
export type Emit<A> = (event: A) => Effect.Effect<boolean>

/**
 * How a request is answered:
 * - `Boot`: services made in the worker's scope (they live until the channel closes) and provided to every
 *   later request; answered with the request's success value (`void`).
 * - `Single`: one answer (the effect's success), or its failure.
 * - `Events`: any number of elements sent through `emit` while it runs, then its success as the last
 *   element together with the end of the stream (one message: `[id, 1, [last]]`); or its failure.
 */
export type Answer =
  | { readonly _tag: "Boot"; readonly services: Effect.Effect<Context.Context<never>, unknown, Scope.Scope> }
  | { readonly _tag: "Single"; readonly effect: Effect.Effect<unknown, unknown, unknown> }
  | {
      readonly _tag: "Events"
      readonly run: (emit: Emit<unknown>) => Effect.Effect<unknown, unknown, unknown>
    }

/** A `Schema.TaggedRequest` class as {@link serve} uses it: its tag, payload fields and result schemas. */
export interface RequestClass {
  readonly _tag: string
  readonly fields: Schema.Struct.Fields
  readonly success: Schema.Schema.All
  readonly failure: Schema.Schema.All
}

/** The request classes' schemas need no context (they cross a thread boundary as plain data). */
const noContext = (schema: Schema.Schema.All) => schema as Schema.Schema<unknown, unknown, never>

interface Codec {
  readonly decode: (u: unknown) => Either.Either<unknown, unknown>
  readonly success: (u: unknown) => Either.Either<unknown, unknown>
  readonly failure: (u: unknown) => Either.Either<unknown, unknown>
}

/**
 * Serves `requests` (`Schema.TaggedRequest` classes) on `parentPort` until the broker closes the channel;
 * `answer` picks how each decoded request is handled. A request is decoded by its `_tag` as a plain struct
 * of its class's fields (the class instance itself is not needed to answer it). `limit()` is the current
 * answer cap in bytes. Dies when the port reports a message it cannot deserialize (the worker then exits).
 */
export const serve = <A extends { readonly _tag: string }>(
  requests: ReadonlyArray<RequestClass>,
  answer: (request: A) => Answer,
  limit: () => number
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const port = WorkerThreads.parentPort
    if (port === null) return yield* Effect.dieMessage("not in a worker thread")
    // Booted services live in their own scope, closed after the calls still running have been interrupted.
    const booted = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const closed = yield* Deferred.make<void>()
    let runtime = yield* Effect.runtime<never>()
    const classes = new Map(requests.map((r) => [r._tag, r]))
    // Codecs are built on a tag's first request (start-up builds only those of the boot requests).
    const codecs = new Map<string, Codec>()
    const codecOf = (tag: unknown): Codec | undefined => {
      if (typeof tag !== "string") return undefined
      let codec = codecs.get(tag)
      if (codec === undefined) {
        const r = classes.get(tag)
        if (r === undefined) return undefined
        codec = {
          decode: Schema.decodeUnknownEither(noContext(Schema.Struct(r.fields)), {
            onExcessProperty: "error"
          }),
          success: Schema.encodeUnknownEither(noContext(r.success)),
          failure: Schema.encodeUnknownEither(noContext(r.failure))
        }
        codecs.set(tag, codec)
      }
      return codec
    }
    const running = new Map<number, Fiber.RuntimeFiber<unknown, unknown>>()
    // Calls whose answer was refused for size: anything more for them is dropped until their last answer.
    const refused = new Set<number>()

    const post = (id: number, kind: number, data?: unknown) => {
      if (refused.has(id)) {
        if (kind !== 0) refused.delete(id)
        return
      }
      const message = data === undefined ? [id, kind] : [id, kind, data]
      if (inspect(message, limit())._tag === "too_large") {
        // The call fails at the broker, which then interrupts it here.
        if (kind === 0) refused.add(id)
        port.postMessage([1, [id, 2, OVERSIZED]])
        return
      }
      port.postMessage([1, message])
    }
    const defect = (id: number) => post(id, 3, null)

    const settle = (id: number, codec: Codec, exit: Exit.Exit<unknown, unknown>, stream: boolean) => {
      if (Exit.isSuccess(exit)) {
        const encoded = codec.success(exit.value)
        return Either.isRight(encoded) ? post(id, stream ? 1 : 0, [encoded.right]) : defect(id)
      }
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "None") return defect(id)
      const encoded = codec.failure(failure.value)
      return Either.isRight(encoded) ? post(id, 2, encoded.right) : defect(id)
    }

    const start = (id: number, request: A, codec: Codec) => {
      const how = answer(request)
      let effect: Effect.Effect<unknown, unknown, unknown>
      let stream = false
      // Set once the call has been answered early (an element that does not encode): nothing more is sent.
      let answered = false
      switch (how._tag) {
        case "Boot":
          effect = Effect.map(Scope.extend(how.services, booted), (services) => {
            runtime = Runtime.updateContext(runtime, Context.merge(services))
          })
          break
        case "Single":
          effect = how.effect
          break
        case "Events": {
          stream = true
          let ended = false
          const emit: Emit<unknown> = (event) =>
            Effect.sync(() => {
              if (ended) return false
              const encoded = codec.success(event)
              if (Either.isLeft(encoded)) {
                ended = true
                answered = true
                defect(id)
                running.get(id)?.unsafeInterruptAsFork(FiberId.none)
                return false
              }
              post(id, 0, [encoded.right])
              return true
            })
          effect = Effect.ensuring(
            how.run(emit),
            Effect.sync(() => {
              ended = true
            })
          )
        }
      }
      const fiber = Runtime.runFork(runtime as Runtime.Runtime<unknown>)(effect)
      running.set(id, fiber)
      fiber.addObserver((exit) => {
        if (running.get(id) !== fiber) return
        running.delete(id)
        if (!answered) settle(id, codec, exit, stream)
      })
    }

    const onMessage = (message: readonly [0, readonly [number, number, unknown?]] | readonly [1]) => {
      if (message[0] !== 0) {
        port.close()
        Deferred.unsafeDone(closed, Exit.void)
        return
      }
      const [id, kind, data] = message[1]
      if (kind === 1) {
        running.get(id)?.unsafeInterruptAsFork(FiberId.none)
        return
      }
      const codec = codecOf((data as { readonly _tag?: unknown } | null)?._tag)
      const decoded = codec?.decode(data)
      if (codec === undefined || decoded === undefined || Either.isLeft(decoded)) return defect(id)
      start(id, decoded.right as A, codec)
    }

    port.on("message", onMessage)
    port.on("messageerror", () => {
      Deferred.unsafeDone(closed, Exit.die(new Error("a broker message could not be deserialized")))
    })
    // Calls still running when the channel closes are interrupted; their answers are no longer wanted.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        const fibers = [...running.values()]
        running.clear()
        return Fiber.interruptAll(fibers)
      })
    )
    port.postMessage([0])
    return yield* Deferred.await(closed)
  })
