/**
 * Plaintext encoding of sealed records, one frame for every namespace:
 * `u32le(header length) | header (UTF-8 JSON) | body`. The body is the summary text or document
 * content as UTF-8, or the embedding vector as float32 little-endian; the header holds metadata,
 * times and provenance.
 *
 * @internal
 */
import { hash } from "node:crypto"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { Provenance } from "../CacheTypes.js"
import { CacheError } from "../Errors.js"
import { decode } from "./checks.js"
import * as Rows from "./rows.js"
import { decodeVector, encodeVector } from "./VectorIndex.js"

export { encodeVector }

/** `sha256:<hex>` of `content` (a string is hashed as UTF-8). */
export const contentHash = (content: string | Uint8Array): string =>
  `sha256:${hash("sha256", content, "hex")}`

const frame = (header: string, body: string | Uint8Array): Buffer => {
  const headerBytes = Buffer.byteLength(header, "utf8")
  const bodyBytes = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.byteLength
  const out = Buffer.allocUnsafe(4 + headerBytes + bodyBytes)
  out.writeUInt32LE(headerBytes, 0)
  out.write(header, 4, "utf8")
  if (typeof body === "string") out.write(body, 4 + headerBytes, "utf8")
  else out.set(body, 4 + headerBytes)
  return out
}

/** Splits a frame and decodes its header with `schema`; `corrupt` on a malformed frame or header. */
const unframe = <A, I>(plaintext: Buffer, schema: Schema.Schema<A, I>) =>
  Effect.gen(function* () {
    if (plaintext.byteLength < 4) return yield* Effect.fail(new CacheError({ reason: "corrupt" }))
    const headerEnd = 4 + plaintext.readUInt32LE(0)
    if (headerEnd > plaintext.byteLength) return yield* Effect.fail(new CacheError({ reason: "corrupt" }))
    const header = yield* decode(schema)(plaintext.subarray(4, headerEnd).toString("utf8"))
    return { header, body: plaintext.subarray(headerEnd) }
  })

/** Provenance as stored with a summary or document (the content hash is derived from the body). */
export type StoredProvenance = Omit<Provenance, "contentHash">

export const encodeSummary = (
  text: string,
  metaJson: string,
  createdAt: number,
  expiresAt: number,
  provenance: StoredProvenance
): Buffer =>
  frame(
    `{"meta":${metaJson},"createdAt":${createdAt},"expiresAt":${expiresAt},"provenance":${JSON.stringify(provenance)}}`,
    text
  )

export const encodeDocument = (content: string, expiresAt: number, provenance: StoredProvenance): Buffer =>
  frame(`{"expiresAt":${expiresAt},"provenance":${JSON.stringify(provenance)}}`, content)

export const encodeEmbedding = (
  metaJson: string,
  createdAt: number,
  expiresAt: number,
  provenance: Provenance,
  vectorBytes: Buffer
): Buffer =>
  frame(
    `{"meta":${metaJson},"createdAt":${createdAt},"expiresAt":${expiresAt},"provenance":${JSON.stringify(provenance)}}`,
    vectorBytes
  )

export const decodeSummary = (plaintext: Buffer) =>
  Effect.map(unframe(plaintext, Rows.SummaryHeader), ({ body, header }) => ({
    ...header,
    provenance: { ...header.provenance, contentHash: contentHash(body) },
    text: body.toString("utf8")
  }))

export const decodeDocument = (plaintext: Buffer) =>
  Effect.map(unframe(plaintext, Rows.DocumentHeader), ({ body, header }) => ({
    ...header,
    provenance: { ...header.provenance, contentHash: contentHash(body) },
    content: body.toString("utf8")
  }))

/** Fails with `CacheError` `corrupt` on a malformed record, `dimension` on a vector of another size. */
export const decodeEmbedding = (plaintext: Buffer, dimension: number) =>
  Effect.flatMap(unframe(plaintext, Rows.EmbeddingHeader), ({ body, header }) => {
    const vector = decodeVector(body, dimension)
    return vector === undefined
      ? Effect.fail(new CacheError({ reason: "dimension" }))
      : Effect.succeed({ ...header, vector })
  })
