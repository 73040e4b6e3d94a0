/**
 * Plaintext encoding of embedding records: `u32le(header length) | header JSON | float32le vector`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { CacheError } from "../Errors.js"
import { decode } from "./checks.js"
import * as Rows from "./rows.js"
import { decodeVector, encodeVector } from "./VectorIndex.js"

export const encodeEmbedding = (metaJson: string, createdAt: number, vector: Float32Array): Buffer => {
  const header = Buffer.from(`{"meta":${metaJson},"createdAt":${createdAt}}`, "utf8")
  const length = Buffer.alloc(4)
  length.writeUInt32LE(header.byteLength, 0)
  return Buffer.concat([length, header, encodeVector(vector)])
}

/** Fails with `CacheError` `corrupt` on a malformed record, `dimension` on a vector of another size. */
export const decodeEmbedding = (plaintext: Buffer, dimension: number) =>
  Effect.gen(function* () {
    if (plaintext.byteLength < 4) return yield* Effect.fail(new CacheError({ reason: "corrupt" }))
    const headerEnd = 4 + plaintext.readUInt32LE(0)
    if (headerEnd > plaintext.byteLength) return yield* Effect.fail(new CacheError({ reason: "corrupt" }))
    const header = yield* decode(Rows.EmbeddingHeader)(plaintext.subarray(4, headerEnd).toString("utf8"))
    const vector = decodeVector(plaintext.subarray(headerEnd), dimension)
    if (vector === undefined) return yield* Effect.fail(new CacheError({ reason: "dimension" }))
    return { meta: header.meta, createdAt: header.createdAt, vector }
  })
