import { Effect, Schema } from "effect"
import { StoreError } from "../Errors.js"

/**
 * Decoder of query rows with `schema`; a mismatch becomes `StoreError` naming only the table
 * (never the row's content).
 */
export const decodeRows = <A, I>(schema: Schema.Schema<A, I>, table: string) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, StoreError> =>
    decode(rows).pipe(
      Effect.mapError(() => new StoreError({ code: "E_STORE", reason: `${table} row does not match schema` }))
    )
}

/** Encodes a value as JSON text; `StoreError` when it is not JSON-serialisable. */
export const encodeJson = (value: unknown, what: string): Effect.Effect<string, StoreError> =>
  Effect.try({
    try: () => {
      const text = JSON.stringify(value)
      if (text === undefined) throw new TypeError("undefined")
      return text
    },
    catch: () => new StoreError({ code: "E_STORE", reason: `${what} is not JSON-serialisable` })
  })
