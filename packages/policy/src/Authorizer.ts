/**
 * The policy decision point: a Cedar authoriser over the platform policy set plus, per tenant, the
 * tenant's active policy set. Every set is validated against `CedarSchema` in strict mode before it
 * is used and evaluated per request with `statefulIsAuthorized` and request validation on. It fails
 * closed: a request that does not decode or validate, or any policy evaluation error, is a deny
 * with `E_POLICY_EVALUATION`.
 *
 * Tenant sets are hot-swapped: `activate` pre-parses the new set, then replaces the tenant's entry
 * in one assignment. A decision reads the entry once when it starts and evaluates synchronously, so
 * an in-flight decision always finishes on the set it started with; the next one sees the new set.
 *
 * Decisions are cached per authoriser, keyed by the policy version (`platform@<hash>+tenant@<n>`),
 * the principal tenant's suspension status and the canonical JSON of the whole request as given (`now`
 * included; decoding is deterministic, so equal inputs decode to equal requests); an entry lives at
 * most one second on the monotonic `Clock` and at most 10,000 entries are kept. Requests that do not
 * decode and decisions with errors are never cached. Decision attributes are added to the caller's
 * current span (`cordon.policy.*`).
 *
 * @see https://docs.cedarpolicy.com/auth/authorization.html
 * @module
 */
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { type ApprovalLedger, makeMemoryLedger } from "./ApprovalLedger.js"
import { CedarSchema } from "./CedarSchema.js"
import type { PolicyConfigError } from "./Errors.js"
import { type Engine, evaluate, load } from "./internal/CedarEngine.js"
import { toCedarCall } from "./internal/CedarRequest.js"
import { evaluationError, fromEvaluation } from "./internal/Decision.js"
import { cacheKey, type DecisionCache, freezeDecision, makeDecisionCache } from "./internal/DecisionCache.js"
import { PlatformIdPrefix, PlatformPolicies } from "./PlatformPolicies.js"
import { type PolicyDecision, PolicyRequest, type PolicyRequestInput } from "./PolicyRequest.js"

/** A tenant's policy set at one version (`version` ≥ 1, from the control plane). */
export interface TenantPolicySet {
  readonly tenant: string
  readonly version: number
  readonly text: string
}

/** A tenant's lifecycle status as the authoriser sees it (`suspended` denies everything). */
export type TenantStatus = "active" | "suspended"

/** The authoriser service. */
export interface AuthorizerShape {
  /** Version of the platform set alone: `platform@<16 hex>` ({@link policyVersionOf} of its text). */
  readonly policyVersion: string
  /** The version a decision for `tenant` is made under now: `platform@<hash>[+tenant@<n>]`. */
  readonly versionOf: (tenant: string) => string
  /**
   * Decides one request with the platform set plus the principal tenant's active set. Never fails:
   * a malformed request, a schema violation or a policy evaluation error yields
   * `{ decision: "deny", code: "E_POLICY_EVALUATION" }` with `errors`. The input is decoded with
   * the `PolicyRequest` schema (defaults applied), so untyped callers are safe too.
   */
  readonly authorize: (req: PolicyRequestInput) => Effect.Effect<PolicyDecision>
  /**
   * Checks tenant policy text as `activate` would (parse, unique `@id`s outside `platform.`, no
   * templates, strict validation with the platform set) without installing it.
   * Fails with `PolicyConfigError` (`E_CONFIG`).
   */
  readonly validate: (text: string) => Effect.Effect<void, PolicyConfigError>
  /**
   * Validates and pre-parses `set`, then makes it the tenant's active set atomically. Returns the
   * new policy version. On failure the previous set stays active.
   */
  readonly activate: (set: TenantPolicySet) => Effect.Effect<string, PolicyConfigError>
  /** Drops the tenant's set (platform policies only from now on). */
  readonly deactivate: (tenant: string) => Effect.Effect<void>
  /** The tenant's active set, if any. */
  readonly activeSet: (tenant: string) => TenantPolicySet | undefined
  /** Records the tenant's status (default `active`); `suspended` makes every request deny. */
  readonly setTenantStatus: (tenant: string, status: TenantStatus) => Effect.Effect<void>
  /** Pending human approvals (in memory until `useApprovalLedger` installs a durable one). */
  readonly approvals: () => ApprovalLedger
  /** Installs the approval ledger the gate uses from now on (e.g. one backed by the control plane). */
  readonly useApprovalLedger: (ledger: ApprovalLedger) => Effect.Effect<void>
}

/** Options of {@link make}. */
export interface AuthorizerOptions {
  /**
   * Operator policy text appended to the platform set for every tenant (part of the platform
   * version). Every policy needs a unique `@id` not starting with `platform.`.
   */
  readonly extraPolicies?: string
  /** Tenant sets to activate at construction. */
  readonly tenantPolicies?: ReadonlyArray<TenantPolicySet>
  /** `false` turns the decision cache off (benchmarks); default `true`. */
  readonly decisionCache?: boolean
}

/** Policy-set digest: the first 16 hex digits of the SHA-256 of the policy-set text (UTF-8). */
export const policyVersionOf = (policyText: string): string =>
  createHash("sha256").update(policyText, "utf8").digest("hex").slice(0, 16)

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

const decodeRequest = Schema.decodeUnknownEither(PolicyRequest)

/** The engine a decision is made with, and the version string it reports. */
interface Loaded {
  readonly engine: Engine
  readonly version: string
  readonly set: TenantPolicySet | undefined
}

interface Outcome {
  readonly decision: PolicyDecision
  readonly tenant: string | undefined
  readonly action: string | undefined
  readonly cached: boolean
}

/** The `action` member of an already decided input (for span attributes only). */
const actionOf = (input: unknown): string | undefined => {
  const action = (input as { action?: unknown } | null)?.action
  return typeof action === "string" ? action : undefined
}

/**
 * Builds an authoriser from `PlatformPolicies` plus `options.extraPolicies` (joined by a newline;
 * that text is what the platform version hashes). Loading parses and strictly validates the schema
 * and every policy, then pre-parses them into cedar-wasm's thread-local cache, so use the service
 * on the thread that built it. Fails with `PolicyConfigError` (`E_CONFIG`) on any load error.
 */
export const make = (options: AuthorizerOptions = {}): Effect.Effect<AuthorizerShape, PolicyConfigError> =>
  Effect.gen(function* () {
    const platformText =
      options.extraPolicies === undefined ? PlatformPolicies : `${PlatformPolicies}\n${options.extraPolicies}`
    const policyVersion = `platform@${policyVersionOf(platformText)}`
    const platformSources = [
      { text: PlatformPolicies, origin: "platform" as const },
      ...(options.extraPolicies === undefined
        ? []
        : [{ text: options.extraPolicies, origin: "tenant" as const }])
    ]
    const schemaKey = sha256(CedarSchema)
    const loadWith = (tenantText: string | undefined, preparse: boolean) =>
      load({
        schemaText: CedarSchema,
        schemaKey,
        sources:
          tenantText === undefined
            ? platformSources
            : [...platformSources, { text: tenantText, origin: "tenant" }],
        policyKey: sha256(tenantText === undefined ? platformText : `${platformText}\n${tenantText}`),
        reservedPrefix: PlatformIdPrefix,
        preparse
      })
    const platform: Loaded = {
      engine: yield* loadWith(undefined, true),
      version: policyVersion,
      set: undefined
    }
    const tenants = new Map<string, Loaded>()
    const suspended = new Set<string>()
    const cache: DecisionCache | undefined = options.decisionCache === false ? undefined : makeDecisionCache()
    let ledger: ApprovalLedger = makeMemoryLedger()

    const loadedFor = (tenant: string): Loaded => tenants.get(tenant) ?? platform

    const decide = (now: bigint, input: unknown): Outcome => {
      // A decision is cached under the canonical form of the input as given (before decoding, which is
      // deterministic), so a repeated question is answered without decoding or evaluating it again.
      const claimed = (input as { principal?: { tenant?: unknown } } | null)?.principal?.tenant
      const claimedTenant = typeof claimed === "string" ? claimed : undefined
      const key =
        cache === undefined || claimedTenant === undefined ? undefined : inputKey(claimedTenant, input)
      if (key !== undefined) {
        const hit = cache?.get(key, now)
        if (hit !== undefined)
          return { decision: hit, tenant: claimedTenant, action: actionOf(input), cached: true }
      }
      const request = decodeRequest(input)
      if (Either.isLeft(request)) {
        const issues = ParseResult.ArrayFormatter.formatErrorSync(request.left)
        const errors = issues.map((i) => `request.${i.path.join(".")}: ${i.message}`)
        const version = claimedTenant === undefined ? policyVersion : loadedFor(claimedTenant).version
        return {
          decision: evaluationError(version, errors),
          tenant: claimedTenant,
          action: undefined,
          cached: false
        }
      }
      const req = request.right
      // Read once: this decision finishes on this set even if the tenant's set is swapped meanwhile.
      const loaded = loadedFor(req.principal.tenant)
      const call = toCedarCall(req, suspended.has(req.principal.tenant))
      const decision = freezeDecision(
        typeof call === "string"
          ? evaluationError(loaded.version, [call])
          : fromEvaluation(evaluate(loaded.engine, call), loaded.version, loaded.engine.approvalIds)
      )
      if (key !== undefined && decision.errors.length === 0) cache?.set(key, decision, now)
      return { decision, tenant: req.principal.tenant, action: req.action, cached: false }
    }

    /**
     * The cache key of `input` from `tenant`: suspension status, policy version and the input's canonical
     * JSON; `undefined` when the input is not JSON-like (it is then decided without the cache).
     */
    const inputKey = (tenant: string, input: unknown): string | undefined => {
      try {
        return `${suspended.has(tenant) ? "S" : "A"}${cacheKey(loadedFor(tenant).version, input)}`
      } catch {
        return undefined
      }
    }

    const authorize = (req: PolicyRequestInput): Effect.Effect<PolicyDecision> =>
      Effect.clockWith((clock) => {
        const { decision, tenant, action, cached } = decide(clock.unsafeCurrentTimeNanos(), req)
        // Annotates the caller's span, when there is one (looked up without failing: cheap when tracing is off).
        return Effect.map(Effect.serviceOption(Tracer.ParentSpan), (parent) => {
          if (Option.isSome(parent) && parent.value._tag === "Span") {
            const span = parent.value
            span.attribute("cordon.tenant", tenant ?? "")
            span.attribute("cordon.policy.action", action ?? "")
            span.attribute("cordon.policy.decision", decision.decision)
            span.attribute("cordon.policy.code", decision.code ?? "")
            span.attribute("cordon.policy.version", decision.policyVersion)
            span.attribute("cordon.policy.cached", cached)
          }
          return decision
        })
      })

    const activate = (set: TenantPolicySet) =>
      Effect.gen(function* () {
        const engine = yield* loadWith(set.text, true)
        const version = `${policyVersion}+tenant@${set.version}`
        tenants.set(set.tenant, { engine, version, set })
        return version
      })

    for (const set of options.tenantPolicies ?? []) yield* activate(set)

    return {
      policyVersion,
      versionOf: (tenant) => loadedFor(tenant).version,
      authorize,
      validate: (text) => Effect.asVoid(loadWith(text, false)),
      activate,
      deactivate: (tenant) => Effect.sync(() => void tenants.delete(tenant)),
      activeSet: (tenant) => tenants.get(tenant)?.set,
      setTenantStatus: (tenant, status) =>
        Effect.sync(() => {
          if (status === "suspended") suspended.add(tenant)
          else suspended.delete(tenant)
        }),
      approvals: () => ledger,
      useApprovalLedger: (next) =>
        Effect.sync(() => {
          ledger = next
        })
    }
  })

/**
 * The `Authorizer` service tag. `Authorizer.layer` builds it from the platform policies alone;
 * `Authorizer.layerWith(options)` adds operator or tenant policies; both fail with
 * `PolicyConfigError`.
 */
export class Authorizer extends Context.Tag("@cordon/policy/Authorizer")<Authorizer, AuthorizerShape>() {
  /** See {@link make}. */
  static readonly make = make
  /** The authoriser over `PlatformPolicies` only (tenant sets are activated at run time). */
  static readonly layer: Layer.Layer<Authorizer, PolicyConfigError> = Layer.effect(Authorizer, make())
  /** The authoriser with `options` (see {@link AuthorizerOptions}). */
  static readonly layerWith = (options: AuthorizerOptions): Layer.Layer<Authorizer, PolicyConfigError> =>
    Layer.effect(Authorizer, make(options))
}
