/**
 * The mail team's tools. Handlers use only what the runtime hands them (`ToolContext`): their own tenant's
 * directory and the session's cache; tenant and session come from the verified token, never from input.
 */
import { featureHashEmbedder } from "@cordon/cache/Embedder"
import { ToolFailed } from "@cordon/sdk/Errors"
import * as Tool from "@cordon/sdk/Tool"
import { Effect, Option, Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { classify, type SpamModel } from "../mail/Classifier.js"

const embedder = featureHashEmbedder(256)

const failed = (code: string, reason: string) => new ToolFailed({ code, reason })

let model: Promise<SpamModel> | undefined
const loadModel = (file: string) => {
  model ??= fs.readFile(file, "utf8").then((text) => JSON.parse(text) as SpamModel)
  return model
}

/** Scores a message as spam or ham with the tenant-independent naive Bayes model (`settings.spamModel`). */
export const classifyMail = Tool.make({
  name: "mail.classify",
  description: "Classify one message as spam or ham",
  input: Schema.Struct({ subject: Schema.String, text: Schema.String }),
  output: Schema.Struct({ label: Schema.Literal("spam", "ham"), score: Schema.Number }),
  scopes: ["mail:read"],
  handler: (input, ctx) =>
    Effect.tryPromise({
      try: () => loadModel(ctx.settings.spamModel ?? ""),
      catch: () => failed("E_TOOL_FAILED", "spam model unavailable")
    }).pipe(Effect.map((m) => classify(m, input)))
})

const InboxEntry = Schema.Struct({ id: Schema.String, from: Schema.String, subject: Schema.String })

/**
 * Lists messages of a mailbox. The mailbox named in the input is a tenant-owned record: the gate checks it
 * against the caller's tenant before this runs, and the handler reads only its own tenant's inbox anyway.
 */
export const readInbox = Tool.make({
  name: "inbox.read",
  description: "List recent messages of a mailbox",
  input: Schema.Struct({
    mailbox: Schema.String,
    limit: Schema.optional(Schema.Int.pipe(Schema.between(1, 50)))
  }),
  output: Schema.Struct({ messages: Schema.Array(InboxEntry) }),
  scopes: ["inbox:read"],
  records: (input) => [{ type: "Mailbox", tenant: input.mailbox, id: input.mailbox }],
  handler: (input, ctx) =>
    Effect.tryPromise({
      try: async () => {
        const all = JSON.parse(await fs.readFile(path.join(ctx.tenantDir, "inbox.json"), "utf8")) as Array<
          typeof InboxEntry.Type
        >
        return {
          messages: all.slice(0, input.limit ?? 10).map(({ id, from, subject }) => ({ id, from, subject }))
        }
      },
      catch: () => failed("E_TOOL_FAILED", "inbox unavailable")
    })
})

/** Stores a message's summary and its embedding in the session cache. */
export const remember = Tool.make({
  name: "cache.remember",
  description: "Store a summary and its embedding in this session's cache",
  input: Schema.Struct({ key: Schema.String, summary: Schema.String }),
  output: Schema.Struct({ stored: Schema.Boolean }),
  scopes: ["cache:write"],
  handler: (input, ctx) =>
    Effect.gen(function* () {
      yield* ctx.cache.putSummary(input.key, input.summary)
      yield* ctx.cache.putEmbedding(input.key, embedder.embed(input.summary), {})
      return { stored: true }
    }).pipe(
      Effect.mapError((e) =>
        e._tag === "CacheError"
          ? failed("E_CACHE", "session cache write failed")
          : failed(e.code, "refused by the session cache")
      )
    )
})

/** Finds the cached summaries nearest to a text (cosine over feature-hash embeddings). */
export const searchCache = Tool.make({
  name: "cache.search",
  description: "Find related summaries in this session's cache",
  input: Schema.Struct({ text: Schema.String, k: Schema.Int.pipe(Schema.between(1, 20)) }),
  output: Schema.Struct({
    hits: Schema.Array(Schema.Struct({ key: Schema.String, score: Schema.Number, summary: Schema.String }))
  }),
  scopes: ["cache:read"],
  handler: (input, ctx) =>
    Effect.gen(function* () {
      const hits = yield* ctx.cache.search(embedder.embed(input.text), input.k)
      const withText = yield* Effect.forEach(hits, (hit) =>
        Effect.map(ctx.cache.getSummary(hit.key), (s) => ({
          key: hit.key,
          score: hit.score,
          summary: Option.match(s, { onNone: () => "", onSome: (x) => x.text })
        }))
      )
      return { hits: withText }
    }).pipe(Effect.mapError(() => failed("E_CACHE", "session cache read failed")))
})

const Draft = Schema.Struct({
  to: Schema.String,
  subject: Schema.String,
  body: Schema.String.pipe(Schema.maxLength(20_000))
})

const appendLine = (file: string, value: unknown) =>
  Effect.tryPromise({
    try: async () => {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
      await fs.appendFile(file, `${JSON.stringify(value)}\n`, { mode: 0o600 })
    },
    catch: () => failed("E_TOOL_FAILED", "outbox unavailable")
  })

/** Saves a reply draft in the tenant's outbox (nothing is sent). */
export const draftReply = Tool.make({
  name: "outbox.draft",
  description: "Save a reply draft",
  input: Draft,
  output: Schema.Struct({ draftId: Schema.String }),
  scopes: ["outbox:draft"],
  handler: (input, ctx) => {
    const draftId = `d-${randomBytes(6).toString("hex")}`
    return appendLine(path.join(ctx.tenantDir, "outbox", `${ctx.session}.drafts.jsonl`), {
      draftId,
      ...input
    }).pipe(Effect.as({ draftId }))
  }
})

/**
 * Sends mail — a side effect no mail-processing intent allows. It exists so that hijacked agents have
 * something dangerous to reach for; every call that ran is appended to `outbox/sent.jsonl` (the demo
 * checks it stays empty).
 */
export const sendMail = Tool.make({
  name: "outbox.send",
  description: "Send an email",
  input: Draft,
  output: Schema.Struct({ sent: Schema.Boolean }),
  scopes: ["outbox:send"],
  handler: (input, ctx) =>
    appendLine(path.join(ctx.tenantDir, "outbox", "sent.jsonl"), input).pipe(Effect.as({ sent: true }))
})
