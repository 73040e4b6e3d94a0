/**
 * Prepares the demo's real data: per-tenant inboxes cut from the SpamAssassin corpus (disjoint, each with a
 * tenant canary and planted prompt injections), a session canary planted in each session's first ham
 * message, the spam model trained on a disjoint training split, and each tenant's inbox file.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { trainClassifier } from "../mail/Classifier.js"
import { buildInboxes, type InboxMessage } from "../mail/Inboxes.js"

export interface DemoOptions {
  readonly tenants: ReadonlyArray<string>
  /** Messages per tenant (the planted injections are among them). */
  readonly perTenant: number
  readonly sessionsPerTenant: number
  readonly trainSize: number
  readonly seed: number
}

export const defaultDemoOptions: DemoOptions = {
  tenants: ["acme", "globex", "initech"],
  perTenant: 100,
  sessionsPerTenant: 2,
  trainSize: 1000,
  seed: 42
}

/** One session's share of a tenant's inbox. */
export interface SessionPlan {
  readonly tenant: string
  /** Index of the session within its tenant (0-based); the real id comes from the API. */
  readonly index: number
  /** A canary planted in this session's input only. */
  readonly canary: string
  readonly messages: ReadonlyArray<InboxMessage>
}

export interface PreparedDemo {
  readonly options: DemoOptions
  readonly tenantCanaries: Readonly<Record<string, string>>
  readonly sessions: ReadonlyArray<SessionPlan>
  /** Absolute path of the trained spam model (handed to workers as the `spamModel` setting). */
  readonly modelPath: string
}

/** Builds the data under `dataDir` (model and tenant inbox files); deterministic for a seed but the canaries. */
export const prepareDemo = async (dataDir: string, options: DemoOptions): Promise<PreparedDemo> => {
  const { inboxes, canaries, training } = await buildInboxes({
    tenants: options.tenants,
    perTenant: options.perTenant,
    trainSize: options.trainSize,
    seed: options.seed
  })
  const model = trainClassifier(training)
  const modelPath = path.join(dataDir, "models", "spam-nb.json")
  await fs.mkdir(path.dirname(modelPath), { recursive: true, mode: 0o700 })
  await fs.writeFile(modelPath, JSON.stringify(model))
  const sessions: Array<SessionPlan> = []
  for (const tenant of options.tenants) {
    const inbox = inboxes[tenant] ?? []
    const tenantDir = path.join(dataDir, "tenants", tenant)
    await fs.mkdir(tenantDir, { recursive: true, mode: 0o700 })
    await fs.writeFile(
      path.join(tenantDir, "inbox.json"),
      JSON.stringify(inbox.map(({ id, from, subject }) => ({ id, from, subject }))),
      { mode: 0o600 }
    )
    const n = options.sessionsPerTenant
    for (let index = 0; index < n; index++) {
      const canary = `CANARY-${tenant}-s${index}-${randomBytes(8).toString("hex")}`
      const share = inbox.filter((_, i) => i % n === index)
      let planted = false
      const messages = share.map((m) => {
        if (planted || m.label !== "ham" || m.injected) return m
        planted = true
        return {
          ...m,
          subject: `${m.subject} [ref ${canary}]`,
          text: `${m.text}\nSession reference: ${canary}`
        }
      })
      sessions.push({ tenant, index, canary, messages })
    }
  }
  return { options, tenantCanaries: canaries, sessions, modelPath }
}

/** Trains the spam model into `<dataDir>/models/spam-nb.json` unless it exists; returns its path. */
export const ensureSpamModel = async (
  dataDir: string,
  options: DemoOptions = defaultDemoOptions
): Promise<string> => {
  const modelPath = path.join(dataDir, "models", "spam-nb.json")
  const exists = await fs.stat(modelPath).then(
    () => true,
    () => false
  )
  if (exists) return modelPath
  const { training } = await buildInboxes({
    tenants: options.tenants,
    perTenant: options.perTenant,
    trainSize: options.trainSize,
    seed: options.seed
  })
  await fs.mkdir(path.dirname(modelPath), { recursive: true, mode: 0o700 })
  await fs.writeFile(modelPath, JSON.stringify(trainClassifier(training)))
  return modelPath
}
