/**
 * The Cordon HTTP API. Every endpoint but `health` needs `Authorization: Bearer <caller token>`; the token
 * binds the caller to one tenant and user, and no request can name another tenant.
 */
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSecurity,
  OpenApi
} from "@effect/platform"
import { Context, Schema } from "effect"
import { AdminGroup } from "./AdminApi.js"
import { PolicyGroup } from "./PolicyApi.js"
import {
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  TooManyRequests,
  Unauthenticated,
  Unavailable
} from "./Errors.js"
import {
  CreateSession,
  JwksView,
  RevokeRequest,
  RevokeResult,
  SessionView,
  SubmitTask,
  TaskView,
  TraceView
} from "./Model.js"

/** The authenticated caller: its tenant and user, read only from a verified caller token. */
export class Caller extends Context.Tag("@cordon/api/Caller")<
  Caller,
  {
    readonly tenant: string
    readonly user: string
    /** Roles from the token's `roles` claim (`policy-admin`, `approver`); absent = none. */
    readonly roles?: ReadonlyArray<string>
  }
>() {}

export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: Unauthenticated,
  provides: Caller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const IdParam = Schema.String.pipe(Schema.maxLength(128))

export class SessionsGroup extends HttpApiGroup.make("sessions")
  .add(
    HttpApiEndpoint.post("create", "/v1/sessions")
      .setPayload(CreateSession)
      .addSuccess(SessionView, { status: 201 })
      .addError(BadRequest)
      .addError(Forbidden)
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/sessions/:sessionId")
      .setPath(Schema.Struct({ sessionId: IdParam }))
      .addSuccess(SessionView)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.del("end", "/v1/sessions/:sessionId")
      .setPath(Schema.Struct({ sessionId: IdParam }))
      .addSuccess(SessionView)
      .addError(NotFound)
      .addError(Unavailable)
  )
  .middleware(Authentication) {}

export class TasksGroup extends HttpApiGroup.make("tasks")
  .add(
    HttpApiEndpoint.post("submit", "/v1/tasks")
      .setPayload(SubmitTask)
      .addSuccess(TaskView, { status: 202 })
      .addError(BadRequest)
      .addError(NotFound)
      .addError(Conflict)
      .addError(Forbidden)
      .addError(Unavailable)
      .addError(TooManyRequests)
  )
  .add(
    HttpApiEndpoint.post("cancel", "/v1/tasks/:taskId/cancel")
      .setPath(Schema.Struct({ taskId: IdParam }))
      .addSuccess(TaskView)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/tasks/:taskId")
      .setPath(Schema.Struct({ taskId: IdParam }))
      .addSuccess(TaskView)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.get("trace", "/v1/tasks/:taskId/trace")
      .setPath(Schema.Struct({ taskId: IdParam }))
      .addSuccess(TraceView)
      .addError(NotFound)
  )
  .middleware(Authentication) {}

export class IdentityGroup extends HttpApiGroup.make("identity")
  .add(HttpApiEndpoint.get("jwks", "/v1/jwks").addSuccess(JwksView))
  .add(
    HttpApiEndpoint.post("revoke", "/v1/revocations")
      .setPayload(RevokeRequest)
      .addSuccess(RevokeResult)
      .addError(BadRequest)
  )
  .middleware(Authentication) {}

export class HealthGroup extends HttpApiGroup.make("health").add(
  HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
) {}

export class CordonApi extends HttpApi.make("cordon")
  .add(SessionsGroup)
  .add(TasksGroup)
  .add(IdentityGroup)
  .add(HealthGroup)
  .add(AdminGroup)
  .add(PolicyGroup.middleware(Authentication))
  .annotate(OpenApi.Title, "Cordon")
  .annotate(OpenApi.Description, "Multi-tenant agent runtime: sessions, tasks and delegation traces.") {}
