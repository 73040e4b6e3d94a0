/**
 * Byte size and shape check of a value crossing the broker ↔ worker channel, done before it is posted
 * (outbound) or acted on (inbound). The walk stops as soon as the size passes `limit`, so its cost is
 * bounded by the limit, not by the value (a 2 GB buffer or a cyclic graph costs no more than the cap).
 */

/** Outcome of {@link inspect}. */
export type Inspection =
  | { readonly _tag: "ok"; readonly bytes: number }
  /** Over `limit` (JSON-like UTF-8 size; binary buffers count their byte length). */
  | { readonly _tag: "too_large" }
  /** Holds a `MessagePort` (a channel the receiver did not create); every port found is listed. */
  | { readonly _tag: "port"; readonly ports: ReadonlyArray<{ close(): void }> }
  /** Holds something JSON cannot: a binary buffer, a `Map`, a `Date`, a class instance, a function... */
  | { readonly _tag: "not_json" }

const MessagePortCtor: (abstract new () => unknown) | undefined = (
  globalThis as { MessagePort?: abstract new () => unknown }
).MessagePort

const isPort = (v: object): v is { close(): void } =>
  MessagePortCtor !== undefined && v instanceof MessagePortCtor

/**
 * Walks `value` as JSON would serialise it: strings count their UTF-8 length plus quotes, numbers 8 bytes,
 * keys their length plus 3. Allowed: `null`, `undefined`, booleans, finite or not numbers, strings, arrays
 * and plain objects. A shared sub-object counts each time it is reached (as in JSON), so a cycle simply
 * runs into the limit.
 */
export const inspect = (value: unknown, limit: number): Inspection => {
  let bytes = 0
  let notJson = false
  const ports: Array<{ close(): void }> = []
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    switch (typeof v) {
      case "string":
        bytes += (v.length > limit ? v.length : Buffer.byteLength(v, "utf8")) + 2
        break
      case "number":
        bytes += 8
        break
      case "boolean":
      case "undefined":
        bytes += 5
        break
      case "object": {
        if (v === null) {
          bytes += 4
          break
        }
        if (Array.isArray(v)) {
          bytes += 2 + v.length
          for (let i = v.length - 1; i >= 0; i--) stack.push(v[i])
          break
        }
        if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
          bytes += v.byteLength
          notJson = true
          break
        }
        if (isPort(v)) {
          ports.push(v)
          bytes += 8
          break
        }
        const proto = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) {
          notJson = true
          bytes += 8
          break
        }
        bytes += 2
        for (const key of Object.keys(v)) {
          bytes += key.length + 3
          stack.push((v as Record<string, unknown>)[key])
          if (bytes > limit) break
        }
        break
      }
      default:
        // bigint, symbol, function: never part of a protocol message.
        notJson = true
        bytes += 8
    }
    if (bytes > limit) {
      // Ports found so far are still reported by the caller's shape check when under the limit; over
      // the limit the message is refused whole, and any port in it is closed too.
      if (ports.length > 0) return { _tag: "port", ports }
      return { _tag: "too_large" }
    }
  }
  if (ports.length > 0) return { _tag: "port", ports }
  if (notJson) return { _tag: "not_json" }
  return { _tag: "ok", bytes }
}
