/**
 * The broker's gate for background jobs (an agent's `schedule` call): verify the caller's chain, check the
 * target agent against the task's intent, refuse payloads that carry credentials, fix the job's deadline,
 * bound reschedules, record the job, and audit the decision either way.
 *
 * A job's deadline is fixed once, when the first job of its line is created: min(session end, now +
 * `RuntimeConfig.jobHorizonMs`). A job scheduled by a job's task inherits its parent's deadline and generation + 1, so a
 * job that reschedules itself can never outlive that deadline (BJ-02). A job carries no token: the task it
 * fires is minted a fresh root token from the session's grant when it runs (BJ-04).
 *
 * @module
 */
import { Authorizer } from "@cordon/policy/Authorizer"
import { Jobs } from "@cordon/store/Jobs"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { type CallBody, RemoteFailure, type ReplyBody } from "../Protocol.js"
import { RuntimeConfig } from "../RuntimeConfig.js"
import { decider, localDeny, type TaskRun, verifyAudited } from "./taskRun.js"

/** Generations a job line may reach (a job scheduled by a job's task is one generation further). */
export const maxJobGenerations = 16

/** JWS/JWT compact shapes and PEM blocks: a job payload carrying one is refused. */
const CredentialShape = /eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.|-----BEGIN [A-Z ]*(?:PRIVATE KEY|CERTIFICATE)-----/

const deny = (code: string, reason: string) => new RemoteFailure({ code, reason })

/**
 * Handles one `Schedule` call of `agent` (holding the leaf `leafJti` of `chain`) in `run`. Replies
 * `Scheduled` with the job id, or fails with a stable code after auditing the deny: chain errors
 * (`E_TOKEN_*`), `E_HANDOFF_DENIED` (target not in the intent), `E_SECRET_IN_PAYLOAD`,
 * `E_JOB_DEADLINE_EXCEEDED`, `E_QUOTA_EXCEEDED`, `E_AUDIT_UNAVAILABLE`.
 */
export const scheduleJob = (
  run: TaskRun,
  agent: string,
  leafJti: string,
  parentSpan: string,
  chain: ReadonlyArray<string>,
  body: Extract<CallBody, { _tag: "Schedule" }>
) =>
  Effect.gen(function* () {
    const config = yield* RuntimeConfig
    const authorizer = yield* Authorizer
    const jobs = yield* Jobs
    const step = { action: "ScheduleJob", resource: `${run.tenant}/Agent/${body.agent}`, name: body.agent }
    const verified = yield* verifyAudited(run, chain, agent, leafJti, parentSpan, step)
    const decide = decider(run, verified.claims, agent, parentSpan)
    const refuse = (code: string, rule: string, reason: string) =>
      Effect.zipRight(
        decide(step, localDeny(code, rule, authorizer.versionOf(run.tenant))),
        Effect.fail(deny(code, reason))
      )

    const target = run.team.agents.get(body.agent)
    if (
      target === undefined ||
      !run.intent.agents.includes(body.agent) ||
      !target.intents.includes(run.intent.name)
    ) {
      return yield* refuse(
        "E_HANDOFF_DENIED",
        "broker.job-target",
        `agent ${body.agent} cannot run under this intent`
      )
    }
    if (CredentialShape.test(JSON.stringify(body.input) ?? "")) {
      return yield* refuse(
        "E_SECRET_IN_PAYLOAD",
        "broker.job-payload",
        "a job payload may not carry credentials"
      )
    }
    const now = Date.now()
    const parent = yield* jobs.byTask(run.txn).pipe(Effect.orDie)
    const generation = Option.match(parent, { onNone: () => 0, onSome: (p) => p.generation + 1 })
    const deadline = Option.match(parent, {
      onNone: () => Math.min(run.sessionExpiresAt, now + config.jobHorizonMs),
      onSome: (p) => Math.min(p.deadline, run.sessionExpiresAt)
    })
    const runAt = now + body.delayMs
    if (runAt > deadline) {
      return yield* refuse(
        "E_JOB_DEADLINE_EXCEEDED",
        "broker.job-deadline",
        "the job would run past its deadline"
      )
    }
    if (generation >= maxJobGenerations) {
      return yield* refuse("E_QUOTA_EXCEEDED", "broker.job-generations", "too many reschedules")
    }
    const inSession = yield* jobs.pendingInSession(run.tenant, run.session).pipe(Effect.orDie)
    if (inSession >= config.sessionJobLimit) {
      return yield* refuse("E_QUOTA_EXCEEDED", "broker.job-session-limit", "session job limit reached")
    }
    const job = yield* jobs
      .create({
        id: `job-${randomBytes(16).toString("hex")}`,
        tenant: run.tenant,
        session: run.session,
        parentTask: run.txn,
        agent: body.agent,
        intent: run.intent.name,
        input: body.input,
        runAt,
        deadline,
        generation
      })
      .pipe(Effect.orDie)
    yield* decide(step, {
      decision: "allow",
      code: null,
      determiningPolicies: ["broker.job-schedule"],
      policyVersion: authorizer.versionOf(run.tenant),
      errors: []
    })
    yield* run.tracer.event("agent", `schedule ${body.agent} +${body.delayMs}ms`, parentSpan, "ok", {
      job: job.id,
      deadline,
      generation
    })
    const reply: ReplyBody = { _tag: "Scheduled", job: job.id }
    return reply
  })
