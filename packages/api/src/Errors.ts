/**
 * The API's error bodies: each has a stable `code` and an HTTP status. This is the one table mapping
 * domain errors to statuses (and, through {@link exitCodeOf}, to CLI exit codes).
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** 401: missing, malformed, expired or foreign bearer token. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()(
  "Unauthenticated",
  { code: Schema.Literal("E_UNAUTHENTICATED"), message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** 400: the request is well-formed JSON but names an unknown agent/intent or carries invalid input. */
export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  { code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** 403: a policy or delegation rule refused the request (code says which). */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** 404: no such resource for the caller's tenant (another tenant's resource is indistinguishable). */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { code: Schema.Literal("E_NOT_FOUND"), resource: Schema.String, id: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** 409: the session has ended. */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** 503: the tenant's worker or the store is unavailable. */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** 429: a per-tenant limit was reached (`E_QUOTA_EXCEEDED`; `message` names the limit). */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()(
  "TooManyRequests",
  { code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 429 })
) {}

export type ApiError =
  | Unauthenticated
  | BadRequest
  | Forbidden
  | NotFound
  | Conflict
  | Unavailable
  | TooManyRequests

/**
 * CLI exit code per API error: 2 usage/bad request, 3 auth, 4 not found, 5 denied, 6 conflict,
 * 7 unavailable, 8 over quota.
 */
export const exitCodeOf = (error: ApiError): number => {
  switch (error._tag) {
    case "BadRequest":
      return 2
    case "Unauthenticated":
      return 3
    case "NotFound":
      return 4
    case "Forbidden":
      return 5
    case "Conflict":
      return 6
    case "Unavailable":
      return 7
    case "TooManyRequests":
      return 8
  }
}
