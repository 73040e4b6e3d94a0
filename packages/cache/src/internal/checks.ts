/**
 * Argument checks and error helpers shared by the session cache modules.
 *
 * @internal
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CacheError } from "../Errors.js"

/** Longest accepted entry key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 1024

export const fail = (reason: CacheError["reason"], cause?: unknown) =>
  Effect.fail(cause === undefined ? new CacheError({ reason }) : new CacheError({ reason, cause }))

export const sqlError = (cause: SqlError) => new CacheError({ reason: "sql", cause })

/** Decodes with `schema`; a failure is `CacheError` reason `corrupt`. */
export const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (value: unknown) =>
    Effect.mapError(
      Schema.decodeUnknown(schema)(value),
      (cause) => new CacheError({ reason: "corrupt", cause })
    )

export const checkKey = (key: string) =>
  typeof key === "string" && key.length > 0 && key.length <= MAX_KEY_LENGTH
    ? Effect.void
    : fail("invalid-argument")

/** Serialises `meta` (default `{}`), which must be a JSON object. */
export const encodeMeta = (meta: Readonly<Record<string, unknown>> | undefined) =>
  Effect.suspend(() => {
    const value = meta ?? {}
    if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("invalid-argument")
    return Effect.try({
      try: () => JSON.stringify(value),
      catch: (cause) => new CacheError({ reason: "invalid-argument", cause })
    })
  })

export const checkVector = (vector: Float32Array, dimension: number) => {
  if (!(vector instanceof Float32Array) || vector.length !== dimension) return fail("dimension")
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) return fail("invalid-argument")
  return Effect.void
}

/** `true` for an integer in `[1, max]`. */
export const isPositiveInteger = (value: unknown, max = Number.MAX_SAFE_INTEGER): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max
