/**
 * The broker's end of one tenant worker thread. Speaks the `@effect/platform` WorkerRunner wire protocol
 * (`[0]` ready, `[1, [id, kind, data]]` responses; `[0, [id, 0, payload]]` requests, `[0, [id, 1]]`
 * interrupts, `[1]` close) but owns the thread itself, so that:
 * - it never respawns a dead thread (a new thread is a new pool entry, booted for its tenant),
 * - every message is size-capped and shape-checked before it is posted or acted on,
 * - every worker→broker message is decoded strictly (`onExcessProperty: "error"`, known tags only),
 *   attributed only to a request this channel sent, and refused (and reported) otherwise,
 * - a dead thread fails every in-flight call with a typed fault that says why it died.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Mailbox from "effect/Mailbox"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as WorkerThreads from "node:worker_threads"
import { RemoteFailure, type WorkerRequest } from "../Protocol.js"
import {
  MessageIntegrity,
  ResourceLimit,
  WorkerCrashed,
  type WorkerExitCause,
  type WorkerFault
} from "../WorkerFaults.js"
import { inspect } from "./messageSize.js"
import { LOADER, launch, type WorkerScript } from "./workerScript.js"

/** Who a call is made for, so a refused message can be audited against it. */
export interface CallLabel {
  readonly session?: string
  readonly intent?: string
  readonly agent?: string
}

/** A refused worker→broker (or oversized broker→worker) message, for the audit log. */
export interface Violation {
  readonly code: "E_MESSAGE_INTEGRITY" | "E_RESOURCE_LIMIT"
  readonly reason: "schema" | "unknown_sender" | "message_size"
  /** Tag of the request the message was attributed to, if any. */
  readonly request: string | null
  readonly label: CallLabel | undefined
}

type Success<R> = R extends Schema.WithResult<infer A, infer _I, infer _E, infer _EI, infer _R> ? A : never
type Failure<R> = R extends Schema.WithResult<infer _A, infer _I, infer E, infer _EI, infer _R> ? E : never

/** A call surface over one worker thread (the shape `TenantWorker` exposes). */
export interface CallSurface {
  readonly execute: <Req extends WorkerRequest>(
    request: Req,
    label?: CallLabel
  ) => Stream.Stream<Success<Req>, Failure<Req> | WorkerFault>
  readonly executeEffect: <Req extends WorkerRequest>(
    request: Req,
    label?: CallLabel
  ) => Effect.Effect<Success<Req>, Failure<Req> | WorkerFault>
  /**
   * Like `execute`, handing each element to `onEvent` in order, without the cost of a `Stream` (the warm
   * dispatch path). Fails with the call's failure, a `WorkerFault`, or `onEvent`'s first failure.
   */
  readonly executeEach: <Req extends WorkerRequest, E, R>(
    request: Req,
    onEvent: (event: Success<Req>) => Effect.Effect<void, E, R>,
    label?: CallLabel
  ) => Effect.Effect<void, Failure<Req> | WorkerFault | E, R>
}

export interface ChannelOptions {
  readonly entry: string
  /**
   * The entry's classic-script body, when it is a bundle (see `workerScript`), with its code cache if one
   * was made, and a `control` port only for the thread that makes the cache (see `codeCache`).
   */
  readonly script?:
    | {
        readonly body: WorkerScript
        readonly cachedData: Uint8Array | undefined
        readonly control?: WorkerThreads.MessagePort
      }
    | undefined
  readonly name: string
  readonly resourceLimits: WorkerThreads.ResourceLimits
  readonly maxMessageBytes: number
  /** Records a refused message; `then` runs once it is recorded (or recording failed). */
  readonly onViolation: (violation: Violation, then: () => void) => void
  /** Called once, when the thread has exited, with the calls it failed. */
  readonly onExit: (cause: WorkerExitCause, inFlight: number) => void
  /** Called when a call is abandoned while the worker still owes an answer (interrupt, deadline). */
  readonly onAbandon: () => void
}

export interface Channel extends CallSurface {
  readonly threadId: number
  /** Succeeds once the worker's runner has started; fails with the exit cause if the thread dies first. */
  readonly ready: Effect.Effect<void, WorkerExitCause>
  readonly alive: () => boolean
  readonly inFlight: () => number
  /** Completes with the exit cause once the thread has exited. */
  readonly exited: Effect.Effect<WorkerExitCause>
  /** Stops the thread now; in-flight calls fail with `cause`. Waits for the exit. */
  readonly terminate: (cause: WorkerExitCause) => Effect.Effect<void>
  /** Asks the runner to close, terminating after `graceMs`. Waits for the exit. */
  readonly close: (cause: WorkerExitCause, graceMs: number) => Effect.Effect<void>
}

interface Pending {
  readonly tag: string
  /** A stream call ends with `[id, 1]`; a single-answer call is settled by its one data message. */
  readonly stream: boolean
  readonly label: CallLabel | undefined
  readonly success: (u: unknown) => Either.Either<unknown, unknown>
  readonly failure: (u: unknown) => Either.Either<unknown, unknown>
  readonly data: (values: ReadonlyArray<unknown>) => void
  readonly end: () => void
  readonly fail: (error: unknown) => void
}

/** A stream call's answers delivered into `mailbox`: data offered, end and failure close it. */
const mailboxSink = (mailbox: Mailbox.Mailbox<unknown, unknown>) => ({
  data: (values: ReadonlyArray<unknown>) => {
    mailbox.unsafeOfferAll(values)
  },
  end: () => {
    mailbox.unsafeDone(Exit.void)
  },
  fail: (error: unknown) => {
    mailbox.unsafeDone(Exit.fail(error))
  }
})

const strict = { onExcessProperty: "error" } as const

interface Codec {
  readonly encode: (u: unknown) => Either.Either<unknown, unknown>
  readonly success: (u: unknown) => Either.Either<unknown, unknown>
  readonly failure: (u: unknown) => Either.Either<unknown, unknown>
}

// One codec per request class: worker→broker data is decoded strictly (no extra fields, known tags only).
const codecs = new Map<string, Codec>()
const codecOf = (request: WorkerRequest): Codec => {
  let codec = codecs.get(request._tag)
  if (codec === undefined) {
    const r = request as unknown as Schema.WithResult<unknown, unknown, unknown, unknown, never> &
      Schema.Serializable<unknown, unknown, never>
    codec = {
      encode: Schema.encodeUnknownEither(Schema.serializableSchema(r)),
      success: Schema.decodeUnknownEither(Schema.successSchema(r), strict),
      failure: Schema.decodeUnknownEither(Schema.failureSchema(r), strict)
    }
    codecs.set(request._tag, codec)
  }
  return codec
}

const faultOf = (cause: WorkerExitCause): WorkerFault =>
  cause === "out_of_memory"
    ? new ResourceLimit({ code: "E_RESOURCE_LIMIT", reason: "heap" })
    : new WorkerCrashed({ code: "E_WORKER_CRASHED", reason: cause })

const integrity = (reason: "schema" | "unknown_sender") =>
  new MessageIntegrity({ code: "E_MESSAGE_INTEGRITY", reason })

const tooLarge = () => new ResourceLimit({ code: "E_RESOURCE_LIMIT", reason: "message_size" })

/** Spawns the thread (empty `env`, heap limits, no inherited `execArgv`) and attaches every listener. */
export const open = (options: ChannelOptions): Channel => {
  const script = options.script
  const thread = new WorkerThreads.Worker(script === undefined ? options.entry : LOADER, {
    ...(script === undefined ? {} : launch(script.body, script.cachedData, script.control)),
    env: {},
    execArgv: [],
    resourceLimits: options.resourceLimits,
    name: options.name,
    stdout: false,
    stderr: false
  })
  const pending = new Map<number, Pending>()
  const readyLatch = Deferred.unsafeMake<void, WorkerExitCause>(FiberId.none)
  const exitLatch = Deferred.unsafeMake<WorkerExitCause>(FiberId.none)
  let nextId = 0
  let alive = true
  let requestedCause: WorkerExitCause | undefined
  let outOfMemory = false
  let exitCause: WorkerExitCause = "crashed"

  const report = (
    code: Violation["code"],
    reason: Violation["reason"],
    p: Pending | undefined,
    then: () => void = () => {}
  ) => options.onViolation({ code, reason, request: p?.tag ?? null, label: p?.label }, then)

  const settle = (id: number) => {
    const p = pending.get(id)
    pending.delete(id)
    return p
  }

  /** The pending request a raw message names, if it names one this channel sent and still awaits. */
  const attributed = (message: unknown): number | undefined => {
    if (!Array.isArray(message) || message[0] !== 1 || !Array.isArray(message[1])) return undefined
    const id: unknown = message[1][0]
    return typeof id === "number" && pending.has(id) ? id : undefined
  }

  const refuse = (
    message: unknown,
    error: WorkerFault,
    code: Violation["code"],
    reason: Violation["reason"]
  ) => {
    const id = attributed(message)
    const p = id === undefined ? undefined : settle(id)
    // The call fails only once the refusal is on record.
    report(code, reason, p, () => p?.fail(error))
  }

  const decodeAll = (p: Pending, values: unknown): ReadonlyArray<unknown> | undefined => {
    if (!Array.isArray(values)) return undefined
    const out: Array<unknown> = []
    for (const v of values) {
      const decoded = p.success(v)
      if (Either.isLeft(decoded)) return undefined
      out.push(decoded.right)
    }
    return out
  }

  const onMessage = (message: unknown) => {
    const shape = inspect(message, options.maxMessageBytes)
    if (shape._tag === "port") {
      for (const port of shape.ports) port.close()
      return refuse(message, integrity("unknown_sender"), "E_MESSAGE_INTEGRITY", "unknown_sender")
    }
    if (shape._tag === "too_large") return refuse(message, tooLarge(), "E_RESOURCE_LIMIT", "message_size")
    if (shape._tag === "not_json") {
      return refuse(message, integrity("schema"), "E_MESSAGE_INTEGRITY", "schema")
    }
    if (Array.isArray(message) && message.length === 1 && message[0] === 0) {
      Deferred.unsafeDone(readyLatch, Exit.void)
      return
    }
    const body: unknown =
      Array.isArray(message) && message.length === 2 && message[0] === 1 ? message[1] : null
    if (!Array.isArray(body) || body.length < 2 || body.length > 3 || typeof body[0] !== "number") {
      return report("E_MESSAGE_INTEGRITY", "schema", undefined)
    }
    const [id, kind, data] = body as [number, unknown, unknown]
    const p = pending.get(id)
    if (p === undefined) {
      // A late answer to a call this channel sent and has since settled or abandoned: dropped. Anything
      // else answers a request the broker never made.
      if (Number.isSafeInteger(id) && id >= 0 && id < nextId) return
      return report("E_MESSAGE_INTEGRITY", "unknown_sender", undefined)
    }
    const bad = () => {
      settle(id)
      report("E_MESSAGE_INTEGRITY", "schema", p, () => p.fail(integrity("schema")))
    }
    switch (kind) {
      case 0: {
        const values = decodeAll(p, data)
        if (values === undefined || values.length === 0) return bad()
        if (!p.stream) settle(id)
        return p.data(values)
      }
      case 1: {
        if (body.length === 2) {
          settle(id)
          return p.end()
        }
        const values = decodeAll(p, data)
        if (values === undefined) return bad()
        settle(id)
        p.data(values)
        return p.end()
      }
      case 2: {
        const failure = p.failure(data)
        if (Either.isLeft(failure)) return bad()
        settle(id)
        return p.fail(failure.right)
      }
      case 3:
        settle(id)
        return p.fail(new RemoteFailure({ code: "E_WORKER_FAILED", reason: "tenant worker defect" }))
      default:
        return bad()
    }
  }

  thread.on("message", onMessage)
  thread.on("messageerror", () => report("E_MESSAGE_INTEGRITY", "schema", undefined))
  thread.on("error", (error: unknown) => {
    if ((error as { code?: unknown } | null)?.code === "ERR_WORKER_OUT_OF_MEMORY") outOfMemory = true
  })
  thread.on("exit", () => {
    alive = false
    exitCause = requestedCause ?? (outOfMemory ? "out_of_memory" : "crashed")
    const failed = [...pending.values()]
    pending.clear()
    const fault = faultOf(exitCause)
    for (const p of failed) p.fail(fault)
    Deferred.unsafeDone(readyLatch, Exit.fail(exitCause))
    Deferred.unsafeDone(exitLatch, Exit.succeed(exitCause))
    options.onExit(exitCause, failed.length)
  })

  /** Registers and posts a request; returns its id, or fails the request at once. */
  const send = (request: WorkerRequest, p: Pending): number => {
    const id = nextId++
    if (!alive) {
      p.fail(faultOf(exitCause))
      return id
    }
    const encoded = codecOf(request).encode(request)
    if (Either.isLeft(encoded)) {
      p.fail(integrity("schema"))
      return id
    }
    const shape = inspect(encoded.right, options.maxMessageBytes)
    if (shape._tag === "too_large") {
      report("E_RESOURCE_LIMIT", "message_size", p, () => p.fail(tooLarge()))
      return id
    }
    if (shape._tag !== "ok") {
      report("E_MESSAGE_INTEGRITY", "schema", p, () => p.fail(integrity("schema")))
      return id
    }
    pending.set(id, p)
    try {
      thread.postMessage([0, [id, 0, encoded.right]])
    } catch {
      settle(id)
      p.fail(integrity("schema"))
    }
    return id
  }

  /** Abandons a call still awaited (interrupt): tells the worker, and lets the pool probe it. */
  const abandon = (id: number) =>
    Effect.sync(() => {
      if (settle(id) === undefined || !alive) return
      try {
        thread.postMessage([0, [id, 1]])
      } catch {
        // The thread is going away; its exit settles everything.
      }
      options.onAbandon()
    })

  const pendingOf = (
    request: WorkerRequest,
    label: CallLabel | undefined,
    stream: boolean,
    sink: Pick<Pending, "data" | "end" | "fail">
  ): Pending => {
    const codec = codecOf(request)
    return { tag: request._tag, stream, label, success: codec.success, failure: codec.failure, ...sink }
  }

  const executeEffect = (request: WorkerRequest, label?: CallLabel) =>
    Effect.acquireUseRelease(
      Effect.map(Deferred.make<unknown, unknown>(), (deferred) => {
        const id = send(
          request,
          pendingOf(request, label, false, {
            data: (values) => Deferred.unsafeDone(deferred, Exit.succeed(values[0])),
            end: () => Deferred.unsafeDone(deferred, Exit.fail(integrity("schema"))),
            fail: (error) => Deferred.unsafeDone(deferred, Exit.fail(error))
          })
        )
        return { id, deferred }
      }),
      ({ deferred }) => Deferred.await(deferred),
      ({ id }) => abandon(id)
    )

  const execute = (request: WorkerRequest, label?: CallLabel) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const mailbox = yield* Mailbox.make<unknown, unknown>()
        yield* Effect.acquireRelease(
          Effect.sync(() => send(request, pendingOf(request, label, true, mailboxSink(mailbox)))),
          (id) => abandon(id)
        )
        return Mailbox.toStream(mailbox)
      })
    )

  const executeEach = (
    request: WorkerRequest,
    onEvent: (event: unknown) => Effect.Effect<void, unknown, unknown>,
    label?: CallLabel
  ) =>
    Effect.acquireUseRelease(
      Effect.map(Mailbox.make<unknown, unknown>(), (mailbox) => {
        const id = send(request, pendingOf(request, label, true, mailboxSink(mailbox)))
        return { id, mailbox }
      }),
      ({ mailbox }) =>
        Effect.gen(function* () {
          for (;;) {
            const [events, done] = yield* mailbox.takeAll
            for (const event of events) yield* onEvent(event)
            if (done) return
          }
        }),
      ({ id }) => abandon(id)
    )

  const terminate = (cause: WorkerExitCause) =>
    Effect.suspend(() => {
      if (alive) {
        requestedCause ??= cause
        void thread.terminate()
      }
      return Deferred.await(exitLatch)
    }).pipe(Effect.asVoid)

  return {
    threadId: thread.threadId,
    ready: Deferred.await(readyLatch),
    alive: () => alive,
    inFlight: () => pending.size,
    exited: Deferred.await(exitLatch),
    terminate,
    close: (cause, graceMs) =>
      Effect.suspend(() => {
        if (!alive) return Effect.void
        requestedCause ??= cause
        try {
          thread.postMessage([1])
        } catch {
          return terminate(cause)
        }
        return Deferred.await(exitLatch).pipe(
          Effect.timeout(graceMs),
          Effect.catchAll(() => terminate(cause)),
          Effect.asVoid
        )
      }),
    execute: execute as CallSurface["execute"],
    executeEach: executeEach as CallSurface["executeEach"],
    executeEffect: executeEffect as CallSurface["executeEffect"]
  }
}
