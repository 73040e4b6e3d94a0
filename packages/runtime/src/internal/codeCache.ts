/**
 * The V8 code cache new tenant workers start from (see `workerScript`), made once per broker.
 *
 * A throwaway thread loads the bundle, boots for a placeholder tenant that owns nothing (no keys, no
 * revocations, an empty temporary data directory), answers the readiness `Ping`, and hands back the code
 * cache of everything it compiled; it is then terminated. It is never handed to a tenant and never sees a
 * tenant's data or requests: every tenant worker is still a fresh thread that loads, evaluates and boots
 * the bundle itself, only without parsing and compiling it again.
 *
 * The cache never comes from a tenant's worker, and each worker gets its own copy of it (`workerData` is
 * cloned, never shared memory), so no tenant can alter the code another tenant's worker runs. Workers
 * compile the very source string the cache was made from; V8 checks a cache against its own version and
 * flags and the source, and a cache it rejects only costs a normal compile.
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { MessageChannel, type ResourceLimits } from "node:worker_threads"
import { InitialMessage, Ping } from "../Protocol.js"
import { type ChannelOptions, open } from "./workerChannel.js"
import { load, type WorkerScript } from "./workerScript.js"

/** What the cache-making thread is started and booted with (as a tenant worker would be). */
export interface CodeCacheOptions {
  readonly script: WorkerScript
  readonly resourceLimits: ResourceLimits
  readonly maxMessageBytes: number
  readonly trustDomain: string
  readonly maxDepth: number
  readonly clockToleranceSec: number
  readonly revocationStaleMs: number
  /** Past this (ms) the thread is terminated and no cache is made. */
  readonly timeoutMs: number
}

/** Largest code cache accepted, in bytes. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024

/** The placeholder tenant id the cache-making thread boots for (used inside that thread only). */
const PLACEHOLDER = "0-code-cache"

/**
 * Makes the code cache of `options.script`; succeeds with `undefined` when the thread fails, answers
 * anything but a cache, or runs past `timeoutMs` (tenant workers then compile the bundle themselves).
 */
export const make = (options: CodeCacheOptions): Effect.Effect<Uint8Array | undefined> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const control = new MessageChannel()
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cordon-code-cache-"))
      const channel = open({
        entry: options.script.filename,
        script: { body: options.script, cachedData: undefined, control: control.port2 },
        name: "cordon-code-cache",
        resourceLimits: options.resourceLimits,
        maxMessageBytes: options.maxMessageBytes,
        onViolation: (_violation, then) => then(),
        onExit: () => {},
        onAbandon: () => {}
      })
      return { control: control.port1, dataDir, channel }
    }),
    ({ control, dataDir, channel }) =>
      Effect.gen(function* () {
        yield* channel.ready
        yield* channel.executeEffect(
          new InitialMessage({
            tenant: PLACEHOLDER,
            trustDomain: options.trustDomain,
            issuer: "https://code-cache.invalid",
            jwks: { keys: [] },
            dataDir,
            maxDepth: options.maxDepth,
            clockToleranceSec: options.clockToleranceSec,
            revoked: [],
            revocationStaleMs: options.revocationStaleMs,
            maxMessageBytes: options.maxMessageBytes,
            settings: {}
          })
        )
        yield* channel.executeEffect(new Ping())
        const answer = yield* Effect.async<unknown>((resume) => {
          control.once("message", (message: unknown) => resume(Effect.succeed(message)))
          control.postMessage("cache")
        })
        return answer instanceof Uint8Array && answer.byteLength > 0 && answer.byteLength <= MAX_CACHE_BYTES
          ? answer
          : undefined
      }).pipe(
        Effect.timeout(options.timeoutMs),
        Effect.catchAllCause(() => Effect.succeed(undefined))
      ),
    ({ control, dataDir, channel }) =>
      Effect.zipRight(
        channel.terminate("shutdown"),
        Effect.sync(() => {
          control.close()
          fs.rmSync(dataDir, { recursive: true, force: true })
        })
      )
  )

/**
 * How a pool starts its workers from `entry`: the returned function gives the bundle's body with the cache
 * made so far (`undefined` for an entry that is not a bundle). Its first call reads `entry` once and starts
 * making the cache with `fork` (the pool's own fibers, interrupted when the pool closes).
 */
export const forEntry = (
  entry: string,
  options: Omit<CodeCacheOptions, "script">,
  fork: (effect: Effect.Effect<void>) => void
): (() => ChannelOptions["script"]) => {
  let script: WorkerScript | undefined | null = null
  let cachedData: Uint8Array | undefined
  return () => {
    if (script === null) {
      script = load(entry)
      if (script !== undefined) {
        fork(
          Effect.flatMap(make({ ...options, script }), (cache) =>
            Effect.sync(() => {
              cachedData = cache
            })
          )
        )
      }
    }
    return script === undefined ? undefined : { body: script, cachedData }
  }
}
