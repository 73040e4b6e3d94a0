/**
 * Embedding models behind the `@effect/ai` `EmbeddingModel` interface: the deterministic
 * feature-hashing embedder (the default, offline) and an OpenAI-compatible provider
 * (`POST <baseUrl>/embeddings`, used when configured). Neither memoises results: a process-wide
 * cache of embeddings not keyed by tenant and session would be a cross-session channel (MC-01).
 *
 * @module
 */
import * as AiError from "@effect/ai/AiError"
import * as EmbeddingModel from "@effect/ai/EmbeddingModel"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiEmbeddingModel from "@effect/ai-openai/OpenAiEmbeddingModel"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { featureHashEmbedder } from "./Embedder.js"
import { EmbeddingError } from "./Errors.js"

const DIMENSION_MISMATCH = "embedding dimension differs from the configured dimension"
const NOT_FINITE = "embedding is not a vector of finite numbers"

/**
 * An OpenAI-compatible embeddings provider (OpenAI, or any server implementing
 * `POST /v1/embeddings`). Values come from configuration (e.g. `Config.redacted` for the key);
 * nothing here reads the environment.
 *
 * - `baseUrl`: the API root including its version, e.g. `https://api.openai.com/v1`.
 * - `model`: the model name sent in each request, e.g. `text-embedding-3-small`.
 * - `apiKey`: sent as `Authorization: Bearer …`; never logged or put in an error.
 * - `dimension`: the length every returned vector must have (integer in `[1, 65536]`).
 * - `requestDimensions`: also send `dimensions: dimension` in the request (text-embedding-3
 *   models can shorten their vectors); default `false`.
 * - `maxBatchSize`: inputs per request, default 256.
 */
export interface OpenAiCompatibleConfig {
  readonly baseUrl: string
  readonly model: string
  readonly apiKey: Redacted.Redacted<string>
  readonly dimension: number
  readonly requestDimensions?: boolean
  readonly maxBatchSize?: number
}

/** Which embedding model to use: the feature-hashing default, or an OpenAI-compatible provider. */
export type EmbeddingConfig =
  | { readonly _tag: "feature-hash"; readonly dimension: number }
  | ({ readonly _tag: "openai-compatible" } & OpenAiCompatibleConfig)

const vectorProblem = (vector: ReadonlyArray<number>, dimension: number): string | undefined => {
  if (!Array.isArray(vector)) return NOT_FINITE
  if (vector.length !== dimension) return DIMENSION_MISMATCH
  for (const x of vector) if (typeof x !== "number" || !Number.isFinite(x)) return NOT_FINITE
  return undefined
}

/**
 * The provider's error without anything that can hold a credential: request and response headers
 * (`@effect/ai` copies them into the error, `Authorization` included, outside any fiber that
 * would redact them), the response body (a careless provider may echo the key) and the underlying
 * request error are dropped; module, method, URL, HTTP status and reason are kept.
 */
const sanitize = (error: AiError.AiError): AiError.AiError => {
  switch (error._tag) {
    case "HttpResponseError":
      return new AiError.HttpResponseError({
        module: error.module,
        method: error.method,
        request: { ...error.request, headers: {} },
        response: { status: error.response.status, headers: {} },
        reason: error.reason
      })
    case "HttpRequestError":
      return new AiError.HttpRequestError({
        module: error.module,
        method: error.method,
        request: { ...error.request, headers: {} },
        reason: error.reason
      })
    case "MalformedOutput":
      return new AiError.MalformedOutput({
        module: error.module,
        method: error.method,
        description: NOT_FINITE
      })
    default:
      return new AiError.UnknownError({ module: "CordonEmbedding", method: "embed" })
  }
}

const checked = (service: EmbeddingModel.Service, dimension: number): EmbeddingModel.Service => {
  const check = (method: string) => (vector: Array<number>) => {
    const problem = vectorProblem(vector, dimension)
    return problem === undefined
      ? Effect.succeed(vector)
      : Effect.fail(new AiError.MalformedOutput({ module: "CordonEmbedding", method, description: problem }))
  }
  return EmbeddingModel.EmbeddingModel.of({
    embed: (input) => Effect.flatMap(Effect.mapError(service.embed(input), sanitize), check("embed")),
    embedMany: (inputs, options) =>
      Effect.flatMap(Effect.mapError(service.embedMany(inputs, options), sanitize), (vectors) =>
        Effect.forEach(vectors, check("embedMany"))
      )
  })
}

/**
 * The feature-hashing embedder (see `featureHashEmbedder`) as an `EmbeddingModel` service:
 * deterministic, offline, unit-length vectors of `dimension` components (default 256).
 *
 * @throws RangeError when `dimension` is not an integer in `[1, 65536]` (a configuration defect).
 */
export const featureHashEmbeddingModel = (dimension = 256): Effect.Effect<EmbeddingModel.Service> => {
  const embedder = featureHashEmbedder(dimension)
  return EmbeddingModel.make({
    embedMany: (inputs) =>
      Effect.sync(() =>
        inputs.map((input, index) => ({ index, embeddings: Array.from(embedder.embed(input)) }))
      )
  })
}

/** Layer of {@link featureHashEmbeddingModel}: the embedded default. */
export const featureHashLayer = (dimension = 256): Layer.Layer<EmbeddingModel.EmbeddingModel> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, featureHashEmbeddingModel(dimension))

/**
 * An OpenAI-compatible provider as an `EmbeddingModel` layer (needs an `HttpClient`). Every
 * returned vector is checked: a vector whose length is not `dimension`, or with a non-finite
 * component, fails with `AiError.MalformedOutput` (module `CordonEmbedding`). Transport and HTTP
 * failures are `AiError.HttpRequestError`/`HttpResponseError` with headers redacted and without
 * the response body or the underlying request error, so an echoed credential never reaches an error.
 */
export const openAiCompatibleLayer = (
  config: OpenAiCompatibleConfig
): Layer.Layer<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Layer.effect(
    EmbeddingModel.EmbeddingModel,
    Effect.map(EmbeddingModel.EmbeddingModel, (service) => checked(service, config.dimension))
  ).pipe(
    Layer.provide(
      OpenAiEmbeddingModel.layerBatched({
        model: config.model,
        config: {
          maxBatchSize: config.maxBatchSize ?? 256,
          ...(config.requestDimensions === true ? { dimensions: config.dimension } : {})
        }
      })
    ),
    Layer.provide(OpenAiClient.layer({ apiKey: config.apiKey, apiUrl: config.baseUrl.replace(/\/+$/, "") }))
  )

/**
 * The embedding model for `config`: {@link featureHashLayer} for `feature-hash`, else
 * {@link openAiCompatibleLayer} over the platform's `fetch` client.
 */
export const layer = (config: EmbeddingConfig): Layer.Layer<EmbeddingModel.EmbeddingModel> =>
  config._tag === "feature-hash"
    ? featureHashLayer(config.dimension)
    : openAiCompatibleLayer(config).pipe(Layer.provide(FetchHttpClient.layer))

const toEmbeddingError = (error: AiError.AiError): EmbeddingError => {
  switch (error._tag) {
    case "MalformedOutput":
      return new EmbeddingError({
        reason: error.description === DIMENSION_MISMATCH ? "dimension" : "malformed"
      })
    case "HttpResponseError":
      return new EmbeddingError({ reason: "provider", status: error.response.status })
    default:
      return new EmbeddingError({ reason: "provider" })
  }
}

/**
 * Embeds `text` with the current `EmbeddingModel` into a `Float32Array` of `dimension` components,
 * ready for `SessionCache.putEmbedding`/`search`. Fails with `EmbeddingError`: `dimension` when
 * the model returns another length, `malformed` for a non-finite component or an unreadable
 * response, `provider` (with the HTTP `status` when there is one) when the request fails. The
 * error carries neither the text, the URL nor any credential (the `AiError` cause is dropped).
 */
export const embedVector = (
  text: string,
  dimension: number
): Effect.Effect<Float32Array, EmbeddingError, EmbeddingModel.EmbeddingModel> =>
  Effect.flatMap(EmbeddingModel.EmbeddingModel, (model) => model.embed(text)).pipe(
    Effect.mapError(toEmbeddingError),
    Effect.flatMap((vector) => {
      const problem = vectorProblem(vector, dimension)
      return problem === undefined
        ? Effect.succeed(Float32Array.from(vector))
        : Effect.fail(
            new EmbeddingError({ reason: problem === DIMENSION_MISMATCH ? "dimension" : "malformed" })
          )
    })
  )
