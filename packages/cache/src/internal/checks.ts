/**
 * Argument checks and error helpers shared by the session cache modules.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CacheError } from "../Errors.js"

/** Longest accepted entry key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 1024
/** Longest accepted task id, in UTF-16 code units. */
export const MAX_TASK_ID_LENGTH = 256
/** Longest accepted TTL: one year, in seconds. */
export const MAX_TTL_SECONDS = 31_536_000
/** TTL of writes that give none, unless the cache is opened with another: one day, in seconds. */
export const DEFAULT_TTL_SECONDS = 86_400

export const fail = (reason: CacheError["reason"], cause?: unknown) =>
  Effect.fail(cause === undefined ? new CacheError({ reason }) : new CacheError({ reason, cause }))

/** Decodes with `schema`; a failure is `CacheError` reason `corrupt`. */
export const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (value: unknown) =>
    Effect.mapError(
      Schema.decodeUnknown(schema)(value),
      (cause) => new CacheError({ reason: "corrupt", cause })
    )

/** `true` for an integer in `[1, max]`. */
export const isPositiveInteger = (value: unknown, max = Number.MAX_SAFE_INTEGER): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max

/** `true` for a task id of 1 to 256 characters. */
export const isTaskId = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_TASK_ID_LENGTH

/** `true` for a TTL in seconds: an integer in `[1, MAX_TTL_SECONDS]`. */
export const isTtl = (value: unknown): value is number => isPositiveInteger(value, MAX_TTL_SECONDS)

/** `true` for `"trusted"` or `"untrusted"`. */
export const isTrust = (value: unknown): value is "trusted" | "untrusted" =>
  value === "trusted" || value === "untrusted"
