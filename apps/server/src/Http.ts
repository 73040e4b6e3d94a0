/**
 * The HTTP service: implements `@cordon/api`'s `CordonApi` over the `Orchestrator`, authenticates every
 * call with a caller token, and serves OpenAPI docs at `/docs`.
 */
import {
  Authentication,
  BadRequest,
  Forbidden,
  Operator,
  OperatorAuthentication,
  TooManyRequests,
  Caller,
  Conflict,
  CordonApi,
  type JwksView,
  NotFound,
  Unauthenticated,
  type SessionView,
  type TaskView,
  type TraceEventView
} from "@cordon/api"
import { TokenService } from "@cordon/identity/TokenService"
import { CallerTokens } from "@cordon/runtime/CallerTokens"
import { Orchestrator } from "@cordon/runtime/Orchestrator"
import { Revocations } from "@cordon/runtime/Revocations"
import type { Session, Task, TraceEvent } from "@cordon/store/Model"
import {
  HttpApiBuilder,
  HttpApiSwagger,
  HttpMiddleware,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Cause, Effect, Layer, Redacted } from "effect"
import { createServer } from "node:http"
import { OperatorToken } from "./OperatorToken.js"
import { PolicyLive } from "./PolicyHttp.js"

const MAX_INPUT_BYTES = 256 * 1024

export const sessionView = (s: Session): SessionView => ({
  id: s.id,
  tenant: s.tenant,
  user: s.userId,
  status: s.status,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  endedAt: s.endedAt
})

export const taskView = (t: Task): TaskView => ({
  id: t.id,
  tenant: t.tenant,
  session: t.session,
  agent: t.agent,
  intent: t.intent,
  status: t.status,
  output: t.output ?? null,
  error: t.errorCode === null ? null : { code: t.errorCode, message: t.errorMessage ?? "" },
  attempts: t.attempts,
  createdAt: t.createdAt,
  endedAt: t.endedAt
})

export const traceEventView = (e: TraceEvent): TraceEventView => ({
  spanId: e.spanId,
  parentSpanId: e.parentSpanId,
  kind: e.kind,
  name: e.name,
  status: e.status,
  attrs: e.attrs,
  startMs: e.startMs,
  endMs: e.endMs
})

const notFound = (e: { resource: string; id: string }) =>
  new NotFound({ code: "E_NOT_FOUND", resource: e.resource, id: e.id })

/** Bearer authentication: the header must be exactly `Bearer <token>` and the token must verify. */
export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function* () {
    const tokens = yield* CallerTokens
    return Authentication.of({
      bearer: (token) =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers.authorization ?? ""
          const raw = Redacted.value(token)
          if (!header.startsWith("Bearer ") || raw.length === 0) {
            return yield* new Unauthenticated({ code: "E_UNAUTHENTICATED", message: "missing bearer token" })
          }
          return yield* tokens
            .verify(raw)
            .pipe(
              Effect.mapError(
                () => new Unauthenticated({ code: "E_UNAUTHENTICATED", message: "invalid caller token" })
              )
            )
        })
    })
  })
)

const SessionsLive = HttpApiBuilder.group(CordonApi, "sessions", (handlers) =>
  Effect.gen(function* () {
    const orchestrator = yield* Orchestrator
    return handlers
      .handle("create", ({ payload }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.openSession(caller, payload.ttlSeconds)).pipe(
          Effect.map(sessionView),
          Effect.mapError((e) => new Forbidden({ code: e.code, message: "tenant suspended" }))
        )
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.getSession(caller, path.sessionId)).pipe(
          Effect.map(sessionView),
          Effect.mapError(notFound)
        )
      )
      .handle("end", ({ path }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.endSession(caller, path.sessionId)).pipe(
          Effect.map(sessionView),
          Effect.mapError(notFound)
        )
      )
  })
)

const TasksLive = HttpApiBuilder.group(CordonApi, "tasks", (handlers) =>
  Effect.gen(function* () {
    const orchestrator = yield* Orchestrator
    return handlers
      .handle("submit", ({ payload }) =>
        Effect.gen(function* () {
          const caller = yield* Caller
          const size = Buffer.byteLength(JSON.stringify(payload.input ?? null) ?? "null")
          if (size > MAX_INPUT_BYTES) {
            return yield* new BadRequest({
              code: "E_BAD_INPUT",
              message: `input larger than ${MAX_INPUT_BYTES} bytes`
            })
          }
          const task = yield* orchestrator
            .submit(caller, {
              session: payload.session,
              agent: payload.agent,
              intent: payload.intent,
              input: payload.input
            })
            .pipe(
              Effect.catchTags({
                InvalidRequest: (e) => Effect.fail(new BadRequest({ code: e.code, message: e.reason })),
                NotFound: (e) => Effect.fail(notFound(e)),
                SessionClosed: (e) =>
                  Effect.fail(new Conflict({ code: e.code, message: `session ${e.session} has ended` })),
                TenantSuspended: (e) =>
                  Effect.fail(new Forbidden({ code: e.code, message: "tenant suspended" })),
                QuotaExceeded: (e) =>
                  Effect.fail(
                    new TooManyRequests({ code: e.code, message: `tenant ${e.reason} limit reached` })
                  )
              })
            )
          if (payload.wait !== true) return taskView(task)
          return yield* orchestrator
            .await(caller, task.id)
            .pipe(Effect.map(taskView), Effect.mapError(notFound))
        })
      )
      .handle("cancel", ({ path }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.cancel(caller, path.taskId)).pipe(
          Effect.map(taskView),
          Effect.mapError(notFound)
        )
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.getTask(caller, path.taskId)).pipe(
          Effect.map(taskView),
          Effect.mapError(notFound)
        )
      )
      .handle("trace", ({ path }) =>
        Effect.flatMap(Caller, (caller) => orchestrator.getTrace(caller, path.taskId)).pipe(
          Effect.map(({ task, events }) => ({ task: taskView(task), events: events.map(traceEventView) })),
          Effect.mapError(notFound)
        )
      )
  })
)

const IdentityLive = HttpApiBuilder.group(CordonApi, "identity", (handlers) =>
  Effect.gen(function* () {
    const tokens = yield* TokenService
    const revocations = yield* Revocations
    return handlers
      .handle("jwks", () =>
        Effect.flatMap(Caller, (caller) => tokens.jwks(caller.tenant)).pipe(
          Effect.map((jwks) => ({ keys: jwks.keys as ReadonlyArray<JwksView["keys"][number]> }))
        )
      )
      .handle("revoke", ({ payload }) =>
        Effect.gen(function* () {
          const caller = yield* Caller
          const { all, ...selector } = payload
          if (all !== true && Object.keys(selector).length === 0) {
            return yield* new BadRequest({
              code: "E_BAD_REQUEST",
              message: "name what to revoke, or all: true"
            })
          }
          const revoked = yield* revocations.revoke(caller.tenant, all === true ? {} : selector, "manual")
          return { revoked: revoked.length }
        })
      )
  })
)

/** Operator authentication: `Bearer <operator token>`, compared in constant time. */
export const OperatorAuthenticationLive = Layer.effect(
  OperatorAuthentication,
  Effect.map(OperatorToken, (operator) =>
    OperatorAuthentication.of({
      bearer: (token) =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers.authorization ?? ""
          const raw = Redacted.value(token)
          if (!header.startsWith("Bearer ") || raw.length === 0 || !operator.verify(raw)) {
            return yield* new Unauthenticated({
              code: "E_UNAUTHENTICATED",
              message: "invalid operator token"
            })
          }
          return { id: "operator" }
        })
    })
  )
)

const AdminLive = HttpApiBuilder.group(CordonApi, "admin", (handlers) =>
  Effect.gen(function* () {
    const orchestrator = yield* Orchestrator
    return handlers
      .handle("suspendTenant", ({ path, payload }) =>
        Effect.zipRight(
          Operator,
          orchestrator.suspendTenant(path.tenantId, payload.purge === true ? { purge: true } : {})
        )
      )
      .handle("resumeTenant", ({ path }) =>
        Effect.zipRight(
          Operator,
          orchestrator
            .resumeTenant(path.tenantId)
            .pipe(Effect.as({ tenant: path.tenantId, status: "active" as const }))
        )
      )
      .handle("ledger", ({ urlParams }) => Effect.zipRight(Operator, orchestrator.ledger(urlParams.tenant)))
  })
)

const HealthLive = HttpApiBuilder.group(CordonApi, "health", (handlers) =>
  handlers.handle("health", () => Effect.succeed({ status: "ok" as const }))
)

/** The API's handlers (needs `Orchestrator` and `CallerTokens`). */
export const ApiLive = HttpApiBuilder.api(CordonApi).pipe(
  Layer.provide([SessionsLive, TasksLive, IdentityLive, HealthLive, AdminLive, PolicyLive]),
  Layer.provide([AuthenticationLive, OperatorAuthenticationLive])
)

const errorBody = (status: number, code: string, message: string) =>
  HttpServerResponse.unsafeJson(
    { _tag: status === 404 ? "NotFound" : "BadRequest", code, message },
    { status }
  )

/**
 * An API-level middleware giving every error response a stable `code`: unparseable bodies (`E_MALFORMED_REQUEST`), schema failures
 * (`E_BAD_REQUEST`, keeping the issues), unknown routes (`E_NOT_FOUND`).
 */
export const StableErrorCodes = HttpApiBuilder.middleware((app) =>
  Effect.catchAllCause(app, (cause) => {
    const error = Cause.squash(cause) as {
      readonly _tag?: string
      readonly issues?: unknown
      readonly message?: string
    }
    switch (error._tag) {
      case "RequestError":
        return Effect.succeed(errorBody(400, "E_MALFORMED_REQUEST", "request body could not be parsed"))
      case "RouteNotFound":
        return Effect.succeed(errorBody(404, "E_NOT_FOUND", "no such route"))
      case "HttpApiDecodeError":
        return Effect.succeed(
          HttpServerResponse.unsafeJson(
            {
              _tag: "BadRequest",
              code: "E_BAD_REQUEST",
              message: error.message ?? "invalid request",
              issues: error.issues
            },
            { status: 400 }
          )
        )
      default:
        return Effect.failCause(cause)
    }
  })
)

/**
 * Serves the API on `host:port` (port 0 picks a free one), with Swagger UI at `/docs`; `logRequests`
 * logs one line per request.
 */
export const serverLayer = (options: {
  readonly host: string
  readonly port: number
  readonly logRequests?: boolean
}) =>
  HttpApiBuilder.serve(options.logRequests === true ? HttpMiddleware.logger : (app) => app).pipe(
    Layer.provide(StableErrorCodes),
    Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
    Layer.provide(ApiLive),
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host }))
  )
