/**
 * Policy benchmarks (issue 4): a bare cedar-wasm `statefulIsAuthorized` with the demo's policy set as
 * the baseline, our `Authorizer` deciding the same request (the two measured as a pair) (request decoding, schema validation, entity
 * assembly, evaluation, and the audit record; decision cache off), and the whole gate before a tool
 * handler (cached chain verification with revocation checks, decision, audit record) as the broker
 * runs it, with the decision cache on (`policy.toolgate`), and with it off (`policy.toolgate.uncached`).
 * Targets: `policy.decide` ≤ 1.5 × `policy.cedar.raw`; `policy.toolgate` ≤ 150 µs.
 *
 * @module
 */
import { makeVerifiedChainCache, verifyChain } from "@cordon/identity/Verifier"
import { Authorizer, type AuthorizerShape } from "@cordon/policy/Authorizer"
import { CedarSchema } from "@cordon/policy/CedarSchema"
import { PlatformPolicies } from "@cordon/policy/PlatformPolicies"
import { type PolicyRequestInput, PolicyRequest } from "@cordon/policy/PolicyRequest"
import { AuditLog } from "@cordon/store/AuditLog"
import * as ControlPlane from "@cordon/store/ControlPlane"
import type { AuditEntry } from "@cordon/store/Model"
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { load, rawIsAuthorized, statefulCall } from "../../packages/policy/src/internal/CedarEngine.js"
import { toCedarCall } from "../../packages/policy/src/internal/CedarRequest.js"
import { bench } from "./Bench.js"
import { agentUri, INTENT, makeIdentity, SESSION, TENANT } from "./IdentityFixtures.js"

const demoPolicies = fs.readFileSync(
  path.resolve(import.meta.dirname, "../../apps/examples/policies/mail.cedar"),
  "utf8"
)

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/** The demo request: `triage` of the benchmark tenant reads its inbox under `mail.process`. */
const request = (actors: ReadonlyArray<string>, depth: number): PolicyRequestInput => ({
  principal: { tenant: TENANT, agent: "a0", spiffeId: agentUri("a0"), handoffs: ["a1"] },
  action: "InvokeTool",
  resource: { type: "Tool", tenant: TENANT, name: "inbox.read" },
  context: {
    tenant: TENANT,
    session: SESSION,
    intent: {
      name: INTENT,
      tools: ["mail.classify", "inbox.read", "cache.remember", "cache.search", "outbox.draft"],
      agents: ["a0", "a1", "a2", "a3"],
      actions: ["StartTask", "Handoff", "InvokeTool", "AccessRecord", "ReadCache", "WriteCache"]
    },
    depth,
    actors,
    rootUser: "user-bench",
    now: Math.floor(Date.now() / 1000),
    args: { folder: "inbox", limit: 20 }
  }
})

const actorChainHash = sha256(agentUri("a0"))
const jtiHash = sha256("jti")

/** The audit entry the broker appends for a decision (hashes only, never a token). */
const auditEntry = (policyVersion: string, reason: string): AuditEntry => ({
  ts: Date.now(),
  tenant: TENANT,
  session: SESSION,
  workload: agentUri("a0"),
  intent: INTENT,
  actorChainHash,
  chainDepth: 0,
  action: "InvokeTool",
  resource: `${TENANT}/Tool/inbox.read`,
  decision: "allow",
  errorCode: null,
  reason,
  policyVersion,
  jtiHash
})

interface RawState {
  readonly call: Parameters<typeof rawIsAuthorized>[0]
}

/** The demo set (platform + mail.cedar) validated and pre-parsed, and the request in Cedar's JSON form. */
const setupRaw = async (): Promise<RawState> => {
  const engine = await Effect.runPromise(
    load({
      schemaText: CedarSchema,
      schemaKey: sha256(CedarSchema),
      sources: [
        { text: PlatformPolicies, origin: "platform" },
        { text: demoPolicies, origin: "tenant" }
      ],
      policyKey: `bench-raw-${sha256(demoPolicies)}`,
      reservedPrefix: "platform."
    })
  )
  // The same request the Authorizer decides, in the Cedar JSON form it builds.
  const built = toCedarCall(Schema.decodeSync(PolicyRequest)(request([agentUri("a0")], 0)), false)
  if (typeof built === "string") throw new Error(built)
  const call = statefulCall(engine, built)
  const answer = rawIsAuthorized(call)
  if (answer.type !== "success" || answer.response.decision !== "allow")
    throw new Error("raw call does not allow")
  return { call }
}

interface DecideState {
  readonly runtime: ManagedRuntime.ManagedRuntime<Authorizer | AuditLog, unknown>
  readonly decide: Effect.Effect<unknown, unknown, Authorizer | AuditLog>
}

/** The raw call and our decision for the same request, measured as a pair (see {@link paired}). */
interface PairState extends RawState, DecideState {}

const setupPair = async (): Promise<PairState> => ({ ...(await setupRaw()), ...(await setupDecide()) })

/** Microseconds `f` takes. */
const timed = (f: () => unknown): number => {
  const start = performance.now()
  f()
  return (performance.now() - start) * 1000
}

/**
 * `policy.cedar.raw` and `policy.decide` are measured as a pair: each iteration of either runs both
 * operations, alternately, and times only its own. The two medians then come from the same conditions
 * (heap, JIT and wasm tiers, CPU contention) instead of from two stretches of the run that this 2-core
 * machine makes differ by up to 1.6× on their own (the ratio `policy.decide` is judged by).
 */
const paired = {
  raw: (s: PairState) => {
    s.runtime.runSync(s.decide)
    return timed(() => rawIsAuthorized(s.call))
  },
  decide: (s: PairState) => {
    rawIsAuthorized(s.call)
    return timed(() => s.runtime.runSync(s.decide))
  }
}

/** The demo tenant's authoriser; `decisionCache` as the broker runs it (on) or off. */
const authorizerWithDemo = (decisionCache: boolean) =>
  Layer.effect(
    Authorizer,
    Authorizer.make({ tenantPolicies: [{ tenant: TENANT, version: 1, text: demoPolicies }], decisionCache })
  )
const auditStore = AuditLog.layer.pipe(Layer.provide(ControlPlane.layerMemory))

/** One decision plus its audit record, failing the benchmark on a deny. */
const decideAndRecord = (authorizer: AuthorizerShape, log: AuditLog["Type"], req: PolicyRequestInput) =>
  Effect.flatMap(authorizer.authorize(req), (d) =>
    d.decision === "allow"
      ? log.append(auditEntry(d.policyVersion, `allow by ${d.determiningPolicies.join(",")}`))
      : Effect.die(new Error(`benchmark request denied: ${d.code}`))
  )

/** The broker's services are resolved once, as its gate holds them; each run decides and records. */
const setupDecide = async (): Promise<DecideState> => {
  const runtime = ManagedRuntime.make(Layer.merge(authorizerWithDemo(false), auditStore))
  const [authorizer, log] = await runtime.runPromise(Effect.all([Authorizer, AuditLog]))
  const decide = Effect.suspend(() => decideAndRecord(authorizer, log, request([agentUri("a0")], 0)))
  await runtime.runPromise(decide)
  return { runtime, decide }
}

interface GateState {
  readonly run: () => Promise<unknown>
  readonly dispose: () => Promise<void>
}

/**
 * The gate before a handler at depth 2: the verified-chain cache is warm (expiry, binding and revocation
 * of every link still checked), then the Cedar decision and the audit record. With `decisionCache` on
 * (as the broker runs) a repeated call is answered from the decision cache (keyed by policy version
 * and the whole request, `now` in seconds included, ≤ 1 s); off, every call is evaluated by Cedar.
 */
const setupGate = (decisionCache: boolean) => async (): Promise<GateState> => {
  const identity = await makeIdentity(Layer.merge(authorizerWithDemo(decisionCache), auditStore))
  const chain = await identity.chain(3)
  const cache = makeVerifiedChainCache({ maxEntries: 64 })
  const options = { ...(await identity.verifyOptions()), cache }
  const [authorizer, log] = await identity.runtime.runPromise(Effect.all([Authorizer, AuditLog]))
  const gate = Effect.gen(function* () {
    const verified = yield* verifyChain(chain, options)
    return yield* decideAndRecord(
      authorizer,
      log,
      request(
        verified.claims.map((c) => c.sub),
        verified.leaf.dep
      )
    )
  })
  await identity.runtime.runPromise(gate)
  return { run: () => identity.runtime.runPromise(gate), dispose: () => identity.dispose() }
}

/**
 * Every policy benchmark warms up for 2 s (at least 1,000 runs) before it is measured, so each one is
 * measured after V8 has tiered up the code it exercises (the wasm module, the decoder, the gate), not
 * charged for compilation the ones after it would not see.
 */
const steadyState = { warmupIterations: 1000, warmupTime: 2000 } as const

export const benches = [
  bench<PairState>({
    name: "policy.cedar.raw",
    unit: "us",
    sample: "returned",
    setup: setupPair,
    run: paired.raw,
    teardown: (s) => s.runtime.dispose(),
    ...steadyState
  }),
  bench<PairState>({
    name: "policy.decide",
    unit: "us",
    baseline: "policy.cedar.raw",
    sample: "returned",
    setup: setupPair,
    // The decision and its audit record are synchronous: run them as such, like the raw call, so the
    // comparison carries no event-loop scheduling.
    run: paired.decide,
    teardown: (s) => s.runtime.dispose(),
    ...steadyState,
    note: (m) => {
      const raw = m("policy.cedar.raw")
      const decide = m("policy.decide")
      return raw === undefined || decide === undefined
        ? undefined
        : `target ≤ 1.5 × raw: ${(decide / raw).toFixed(2)}×`
    }
  }),
  bench<GateState>({
    name: "policy.toolgate",
    unit: "us",
    setup: setupGate(true),
    run: (s) => s.run(),
    teardown: (s) => s.dispose(),
    ...steadyState,
    note: (m) => {
      const gate = m("policy.toolgate")
      return gate === undefined ? undefined : `target ≤ 150 µs: ${gate <= 150 ? "met" : "missed"}`
    }
  }),
  bench<GateState>({
    name: "policy.toolgate.uncached",
    unit: "us",
    baseline: "policy.cedar.raw",
    setup: setupGate(false),
    run: (s) => s.run(),
    teardown: (s) => s.dispose(),
    ...steadyState,
    note: () => "the same gate with the decision cache off: every call evaluated by Cedar"
  })
]
