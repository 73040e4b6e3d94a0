/**
 * Per-tenant demo inboxes cut from the SpamAssassin corpus, each seeded with one tenant canary
 * and three prompt-injection emails, plus a disjoint training set for the spam classifier.
 *
 * @module
 */
import { Schema } from "effect"
import { makeCanary, plantCanary } from "./Canary.js"
import { type CorpusEntry, listCorpus, readCorpus } from "./Corpus.js"
import { plantedInjections } from "./Injections.js"
import { mulberry32, nextInt, shuffled } from "./internal/Prng.js"
import { ParsedMail, parseMail } from "./ParseMail.js"

/**
 * A message in a tenant's inbox. `injected` marks the planted prompt-injection messages for
 * reporting only: agents must never read it.
 */
export const InboxMessage = Schema.Struct({
  ...ParsedMail.fields,
  tenant: Schema.String,
  injected: Schema.Boolean
})
export type InboxMessage = typeof InboxMessage.Type

/** Options of `buildInboxes`. */
export interface InboxOptions {
  /** Tenant ids, at least two, unique, each 1–64 characters of `A-Z a-z 0-9 . _ -`. */
  readonly tenants: ReadonlyArray<string>
  /** Corpus messages per tenant (a positive integer); each inbox also gets 3 injections. */
  readonly perTenant: number
  /** Corpus messages in the training set (a non-negative integer). */
  readonly trainSize: number
  /** PRNG seed; truncated to an unsigned 32-bit integer. */
  readonly seed: number
}

/** The demo data set. */
export interface Inboxes {
  /** Tenant → its inbox: `perTenant` corpus messages and 3 injections, in a seeded order. */
  readonly inboxes: Readonly<Record<string, ReadonlyArray<InboxMessage>>>
  /** Tenant → the canary planted in exactly one ham message of its inbox. */
  readonly canaries: Readonly<Record<string, string>>
  /** `trainSize` parsed messages, disjoint from every inbox. */
  readonly training: ReadonlyArray<ParsedMail>
}

/**
 * The options are invalid (`E_INBOX_CONFIG`), or a tenant's slice holds no ham message to carry
 * its canary (`E_INBOX_NO_HAM`: use a larger `perTenant` or another seed).
 */
export class InboxError extends Schema.TaggedError<InboxError>()("InboxError", {
  code: Schema.Literal("E_INBOX_CONFIG", "E_INBOX_NO_HAM"),
  reason: Schema.String
}) {}

const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/
const PARSE_CONCURRENCY = 16

const configError = (reason: string) => new InboxError({ code: "E_INBOX_CONFIG", reason })

const isCount = (n: number, min: number): boolean => Number.isSafeInteger(n) && n >= min

const validate = (opts: InboxOptions, corpusSize: number): void => {
  const { tenants, perTenant, trainSize, seed } = opts
  if (tenants.length < 2) throw configError("at least two tenants are needed")
  if (!tenants.every((tenant) => TENANT_ID.test(tenant))) throw configError("a tenant id has an invalid form")
  if (new Set(tenants).size !== tenants.length) throw configError("tenant ids must be unique")
  if (!isCount(perTenant, 1)) throw configError("perTenant must be a positive integer")
  if (!isCount(trainSize, 0)) throw configError("trainSize must be a non-negative integer")
  if (!Number.isFinite(seed)) throw configError("seed must be a finite number")
  if (trainSize + tenants.length * perTenant > corpusSize) {
    throw configError("trainSize + tenants × perTenant exceeds the corpus size")
  }
}

const parseAll = async (entries: ReadonlyArray<CorpusEntry>): Promise<ReadonlyArray<ParsedMail>> => {
  const raws = await readCorpus(entries)
  const out: Array<ParsedMail> = []
  for (let i = 0; i < raws.length; i += PARSE_CONCURRENCY) {
    out.push(...(await Promise.all(raws.slice(i, i + PARSE_CONCURRENCY).map(parseMail))))
  }
  return out
}

/**
 * Builds the demo inboxes from one seeded shuffle (mulberry32) of the whole corpus: the first
 * `trainSize` messages are the training set, the next `perTenant` go to `tenants[0]`, the next
 * to `tenants[1]`, and so on, so all slices are disjoint. Per tenant, in `tenants` order:
 *
 * 1. a canary `CANARY-<tenant>-<uuid-like>` is appended to one seeded-chosen ham message;
 * 2. three injection messages (`Injections.plantedInjections`, `injected: true`, label `ham`)
 *    are inserted at seeded positions; the `read-inbox` one names the next tenant in the list.
 *
 * The same options give the same result. Reads and parses only the selected messages.
 * Rejects with `InboxError` (see there) or `CorpusError` when the dataset cannot be read.
 */
export const buildInboxes = async (opts: InboxOptions): Promise<Inboxes> => {
  const entries = await listCorpus()
  validate(opts, entries.length)
  const { tenants, perTenant, trainSize } = opts
  const random = mulberry32(opts.seed)
  const order = shuffled(random, entries)
  const parsed = await parseAll(order.slice(0, trainSize + tenants.length * perTenant))

  const inboxes: Array<readonly [string, ReadonlyArray<InboxMessage>]> = []
  const canaries: Array<readonly [string, string]> = []
  tenants.forEach((tenant, t) => {
    const start = trainSize + t * perTenant
    const inbox: Array<InboxMessage> = parsed
      .slice(start, start + perTenant)
      .map((mail) => ({ ...mail, tenant, injected: false }))
    const ham = inbox.flatMap((mail, i) => (mail.label === "ham" ? [i] : []))
    if (ham.length === 0) {
      throw new InboxError({ code: "E_INBOX_NO_HAM", reason: "a tenant slice holds no ham message" })
    }
    const canary = makeCanary(tenant, random)
    const carrier = ham[nextInt(random, ham.length)] as number
    inbox[carrier] = plantCanary(inbox[carrier] as InboxMessage, canary)
    const other = tenants[(t + 1) % tenants.length] as string
    for (const mail of plantedInjections(tenant, other, random)) {
      inbox.splice(nextInt(random, inbox.length + 1), 0, { ...mail, tenant, injected: true })
    }
    inboxes.push([tenant, inbox])
    canaries.push([tenant, canary])
  })
  return {
    inboxes: Object.fromEntries(inboxes),
    canaries: Object.fromEntries(canaries),
    training: parsed.slice(0, trainSize)
  }
}
