/**
 * A typed client of the Cordon API for one caller token (used by the CLI, the demo driver and tests).
 * Errors come back as the API's tagged errors (`NotFound`, `BadRequest`, ...) with their stable codes.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"
import { CordonApi } from "./CordonApi.js"

/** Builds a client for `baseUrl` (e.g. `http://127.0.0.1:7411`) that sends `Authorization: Bearer <token>`. */
export const makeClient = (baseUrl: string, token: string) =>
  HttpApiClient.make(CordonApi, {
    baseUrl,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  }).pipe(Effect.provide(FetchHttpClient.layer))

export type CordonClient = Effect.Effect.Success<ReturnType<typeof makeClient>>
