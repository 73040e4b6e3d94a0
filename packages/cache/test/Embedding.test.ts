import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import * as EmbeddingModel from "@effect/ai/EmbeddingModel"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import { featureHashEmbedder } from "../src/Embedder.js"
import { embedVector, featureHashLayer, layer } from "../src/Embedding.js"

const DIM = 24
const API_KEY = "sk-test-7b1e0c9a4f2d-never-in-errors"
const reference = featureHashEmbedder(DIM)

interface Seen {
  readonly path: string
  readonly authorization: string | undefined
  readonly body: { model?: string; input?: unknown; dimensions?: number }
}

type Mode = "ok" | "wrong-dimension" | "unauthorized" | "not-numbers"

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = ""
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8")
    })
    req.on("end", () => resolve(body))
  })

/** A fake OpenAI-compatible embeddings server on 127.0.0.1 (random port), closed with the scope. */
const fakeServer = (mode: Mode) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ baseUrl: string; seen: Array<Seen>; close: () => Promise<void> }>((resolve) => {
          const seen: Array<Seen> = []
          const server = createServer(async (req, res) => {
            const body = JSON.parse(await readBody(req)) as Seen["body"]
            seen.push({ path: req.url ?? "", authorization: req.headers.authorization, body })
            const send = (status: number, payload: unknown) => {
              res.writeHead(status, { "content-type": "application/json" })
              res.end(JSON.stringify(payload))
            }
            if (req.method !== "POST" || req.url !== "/v1/embeddings")
              return send(404, { error: "not found" })
            if (mode === "unauthorized" || req.headers.authorization !== `Bearer ${API_KEY}`)
              // a careless provider that echoes the credential it was given
              return send(401, { error: { message: `bad key ${req.headers.authorization}` } })
            const inputs = Array.isArray(body.input) ? (body.input as Array<string>) : [String(body.input)]
            const data = inputs.map((text, index) => {
              const vector = Array.from(reference.embed(text))
              const embedding =
                mode === "wrong-dimension"
                  ? [...vector, 0.5]
                  : mode === "not-numbers"
                    ? vector.map(() => "x")
                    : vector
              return { object: "embedding", index, embedding }
            })
            send(200, {
              object: "list",
              model: body.model,
              data,
              usage: { prompt_tokens: inputs.length, total_tokens: inputs.length }
            })
          })
          server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo
            resolve({
              baseUrl: `http://127.0.0.1:${port}/v1`,
              seen,
              close: () => new Promise((done) => server.close(() => done()))
            })
          })
        })
    ),
    (server) => Effect.promise(server.close)
  )

const provider = (baseUrl: string, extra: { requestDimensions?: boolean } = {}) =>
  layer({
    _tag: "openai-compatible",
    baseUrl,
    model: "text-embedding-test",
    apiKey: Redacted.make(API_KEY),
    dimension: DIM,
    ...extra
  })

/** Every rendering of a failure a log or an HTTP response might show. */
const renderings = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return ["<success>"]
  const error = Cause.squash(exit.cause)
  return [Cause.pretty(exit.cause), JSON.stringify(error), String(error), (error as Error).message ?? ""]
}

describe("embedding models", () => {
  it.effect("the feature-hashing default is an EmbeddingModel layer giving the embedder's vectors", () =>
    Effect.gen(function* () {
      const vector = yield* embedVector("refund for a broken blender", DIM)
      expect(Array.from(vector)).toEqual(Array.from(reference.embed("refund for a broken blender")))
      const many = yield* Effect.flatMap(EmbeddingModel.EmbeddingModel, (m) => m.embedMany(["a b", "c d"]))
      expect(many.map((v) => v.length)).toEqual([DIM, DIM])
      const wrong = yield* Effect.flip(embedVector("text", DIM + 1))
      expect([wrong._tag, wrong.code, wrong.reason]).toEqual(["EmbeddingError", "E_EMBEDDING", "dimension"])
    }).pipe(Effect.provide(featureHashLayer(DIM)))
  )

  it.scoped("the OpenAI-compatible provider posts to /v1/embeddings with the model and bearer key", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer("ok")
      const vector = yield* embedVector("parcel delayed at customs", DIM).pipe(
        Effect.provide(provider(server.baseUrl))
      )
      expect(Array.from(vector)).toEqual(Array.from(reference.embed("parcel delayed at customs")))
      expect(server.seen).toHaveLength(1)
      expect(server.seen[0]).toMatchObject({
        path: "/v1/embeddings",
        authorization: `Bearer ${API_KEY}`,
        body: { model: "text-embedding-test", input: ["parcel delayed at customs"] }
      })
      expect(server.seen[0]!.body.dimensions).toBeUndefined()
      // a batch goes out as one request; `requestDimensions` asks the model for the configured size
      const many = yield* Effect.flatMap(EmbeddingModel.EmbeddingModel, (m) =>
        m.embedMany(["one", "two", "three"])
      ).pipe(Effect.provide(provider(server.baseUrl, { requestDimensions: true })))
      expect(many.map((v) => v.length)).toEqual([DIM, DIM, DIM])
      expect(server.seen).toHaveLength(2)
      expect(server.seen[1]!.body).toMatchObject({ input: ["one", "two", "three"], dimensions: DIM })
    })
  )

  it.scoped(
    "a provider returning the wrong dimension is a typed error, at the model and at embedVector",
    () =>
      Effect.gen(function* () {
        const server = yield* fakeServer("wrong-dimension")
        const live = provider(server.baseUrl)
        const raw = yield* Effect.flip(
          Effect.flatMap(EmbeddingModel.EmbeddingModel, (m) => m.embed("text")).pipe(Effect.provide(live))
        )
        expect(raw._tag).toBe("MalformedOutput")
        const error = yield* Effect.flip(embedVector("text", DIM).pipe(Effect.provide(live)))
        expect([error._tag, error.code, error.reason]).toEqual(["EmbeddingError", "E_EMBEDDING", "dimension"])
      })
  )

  it.scoped("a response that is not a number vector is a typed malformed error", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer("not-numbers")
      const error = yield* Effect.flip(
        embedVector("text", DIM).pipe(Effect.provide(provider(server.baseUrl)))
      )
      expect([error._tag, error.reason]).toEqual(["EmbeddingError", "malformed"])
    })
  )

  it.scoped("the api key never appears in errors, even when the provider echoes it", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer("unauthorized")
      const exit = yield* Effect.exit(
        embedVector("secret question", DIM).pipe(Effect.provide(provider(server.baseUrl)))
      )
      expect(exit).toMatchObject({ _tag: "Failure" })
      const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
      expect(error).toMatchObject({ _tag: "EmbeddingError", reason: "provider", status: 401 })
      expect(server.seen[0]!.authorization).toBe(`Bearer ${API_KEY}`)
      for (const text of renderings(exit)) {
        expect(text).not.toContain(API_KEY)
        expect(text).not.toContain("secret question")
      }
      // the model's own AiError (headers redacted by @effect/ai) does not carry it either
      const raw = yield* Effect.exit(
        Effect.flatMap(EmbeddingModel.EmbeddingModel, (m) => m.embed("x")).pipe(
          Effect.provide(provider(server.baseUrl))
        )
      )
      for (const text of renderings(raw)) expect(text).not.toContain(API_KEY)
      // unreachable provider: a typed provider error without status
      yield* Effect.promise(server.close)
      const down = yield* Effect.flip(embedVector("text", DIM).pipe(Effect.provide(provider(server.baseUrl))))
      expect([down._tag, down.reason, down.status]).toEqual(["EmbeddingError", "provider", undefined])
      expect(JSON.stringify(down)).not.toContain(API_KEY)
    })
  )
})
