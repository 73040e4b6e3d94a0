/**
 * Drives the demo through the HTTP API only, as a customer would: per tenant a caller token, sessions,
 * one task per message, then every task's trace; finally the sessions are ended.
 */
import { makeClient, type TaskView, type TraceView } from "@cordon/api"
import { Effect } from "effect"
import type { InboxMessage } from "../mail/Inboxes.js"
import type { PreparedDemo, SessionPlan } from "./Prepare.js"

export interface TaskResult {
  readonly tenant: string
  readonly sessionId: string
  readonly sessionIndex: number
  readonly message: InboxMessage
  readonly task: TaskView
  readonly trace: TraceView
}

export interface DriveResult {
  readonly sessionIds: ReadonlyArray<{ tenant: string; index: number; id: string }>
  readonly results: ReadonlyArray<TaskResult>
}

/**
 * Submits every planned message as a `triage` task under intent `mail.process` (waiting for each), at
 * most `concurrency` requests in flight, and fetches each task's trace. `onProgress` is called after each task.
 */
export const driveDemo = (options: {
  readonly baseUrl: string
  readonly tokens: Readonly<Record<string, string>>
  readonly prepared: PreparedDemo
  readonly concurrency: number
  readonly onProgress?: (done: number, total: number) => void
}) =>
  Effect.gen(function* () {
    const clients = new Map<string, Effect.Effect.Success<ReturnType<typeof makeClient>>>()
    for (const [tenant, token] of Object.entries(options.tokens)) {
      clients.set(tenant, yield* makeClient(options.baseUrl, token))
    }
    const clientOf = (tenant: string) => clients.get(tenant)!
    const opened = yield* Effect.forEach(options.prepared.sessions, (plan: SessionPlan) =>
      Effect.map(clientOf(plan.tenant).sessions.create({ payload: {} }), (s) => ({ plan, id: s.id }))
    )
    const jobs = opened.flatMap(({ plan, id }) =>
      plan.messages.map((message) => ({ plan, sessionId: id, message }))
    )
    let done = 0
    const results = yield* Effect.forEach(
      jobs,
      ({ plan, sessionId, message }) =>
        Effect.gen(function* () {
          const client = clientOf(plan.tenant)
          const task = yield* client.tasks.submit({
            payload: {
              session: sessionId,
              agent: "triage",
              intent: "mail.process",
              input: {
                messageId: message.id,
                from: message.from,
                subject: message.subject,
                text: message.text
              },
              wait: true
            }
          })
          const trace = yield* client.tasks.trace({ path: { taskId: task.id } })
          options.onProgress?.(++done, jobs.length)
          return {
            tenant: plan.tenant,
            sessionId,
            sessionIndex: plan.index,
            message,
            task: trace.task,
            trace
          }
        }),
      { concurrency: options.concurrency }
    )
    return {
      sessionIds: opened.map(({ plan, id }) => ({ tenant: plan.tenant, index: plan.index, id })),
      results
    } satisfies DriveResult
  })

/** Ends every session the demo opened (shredding its cache). */
export const endSessions = (options: {
  readonly baseUrl: string
  readonly tokens: Readonly<Record<string, string>>
  readonly sessionIds: DriveResult["sessionIds"]
}) =>
  Effect.forEach(
    options.sessionIds,
    ({ tenant, id }) =>
      Effect.flatMap(makeClient(options.baseUrl, options.tokens[tenant]!), (c) =>
        c.sessions.end({ path: { sessionId: id } })
      ),
    { discard: true }
  )
