/**
 * The policy decision point: a Cedar authoriser over the platform policy set (plus optional tenant
 * policies), validated against `CedarSchema` in strict mode at boot and evaluated per request with
 * `statefulIsAuthorized` and request validation on. It fails closed: a request that does not
 * decode or validate, or any policy evaluation error, is a deny with `E_POLICY_EVALUATION`.
 *
 * Decisions are cached per authoriser, keyed by the policy version and the canonical form of the
 * whole decoded request (principal, action, resource and context, `now` included); an entry lives
 * at most one second on the monotonic `Clock` and at most 10,000 entries are kept (oldest evicted).
 * Requests that do not decode and decisions with evaluation errors are never cached.
 *
 * @see https://docs.cedarpolicy.com/auth/authorization.html
 * @module
 */
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { CedarSchema } from "./CedarSchema.js"
import type { PolicyConfigError } from "./Errors.js"
import { evaluate, load, type Engine } from "./internal/CedarEngine.js"
import { toCedarCall } from "./internal/CedarRequest.js"
import { evaluationError, fromEvaluation } from "./internal/Decision.js"
import { cacheKey, type DecisionCache, freezeDecision, makeDecisionCache } from "./internal/DecisionCache.js"
import { PlatformIdPrefix, PlatformPolicies } from "./PlatformPolicies.js"
import { type PolicyDecision, PolicyRequest } from "./PolicyRequest.js"

/** The authoriser service. */
export interface AuthorizerShape {
  /** Version of the loaded policy set: {@link policyVersionOf} of its text. */
  readonly policyVersion: string
  /**
   * Decides one request. Never fails: a malformed request, a schema violation or a policy
   * evaluation error yields `{ decision: "deny", code: "E_POLICY_EVALUATION" }` with `errors`.
   * The input is decoded with the `PolicyRequest` schema, so untyped callers are safe too.
   */
  readonly authorize: (req: PolicyRequest) => Effect.Effect<PolicyDecision>
}

/** Options of {@link make}: `extraPolicies` is tenant policy text appended to the platform set. */
export interface AuthorizerOptions {
  /**
   * Cedar policy text. Every policy needs a unique `@id` not starting with `platform.`, and must
   * validate against `CedarSchema` in strict mode. Platform `forbid`s still apply.
   */
  readonly extraPolicies?: string
}

/** Policy-set version: the first 16 hex digits of the SHA-256 of the policy-set text (UTF-8). */
export const policyVersionOf = (policyText: string): string =>
  createHash("sha256").update(policyText, "utf8").digest("hex").slice(0, 16)

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

const decodeRequest = Schema.decodeUnknownEither(PolicyRequest)

/** The outcome of one `authorize` call: the decision, the decoded request, and whether it was cached. */
interface Outcome {
  readonly decision: PolicyDecision
  readonly request: PolicyRequest | undefined
  readonly cached: boolean
}

/**
 * The decision for `input`. A request that does not decode is denied and never cached. A decoded
 * request is looked up in `cache` under `policyVersion` and its canonical form; on a miss it is
 * evaluated, and the decision is stored only when evaluation reported no error.
 */
const decide = (
  engine: Engine,
  policyVersion: string,
  cache: DecisionCache,
  now: bigint,
  input: unknown
): Outcome => {
  const request = decodeRequest(input)
  if (Either.isLeft(request)) {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(request.left)
    const errors = issues.map((i) => `request.${i.path.join(".")}: ${i.message}`)
    return { decision: evaluationError(policyVersion, errors), request: undefined, cached: false }
  }
  const key = cacheKey(policyVersion, request.right)
  const hit = cache.get(key, now)
  if (hit !== undefined) return { decision: hit, request: request.right, cached: true }
  const decision = freezeDecision(fromEvaluation(evaluate(engine, toCedarCall(request.right)), policyVersion))
  if (decision.errors.length === 0) cache.set(key, decision, now)
  return { decision, request: request.right, cached: false }
}

/**
 * Builds an authoriser from `PlatformPolicies` plus `options.extraPolicies` (joined by a newline;
 * that text is what `policyVersion` hashes). Loading parses and strictly validates the schema and
 * every policy, then pre-parses them into cedar-wasm's thread-local cache, so use the service on
 * the thread that built it. Fails with `PolicyConfigError` (`E_CONFIG`) on any load error.
 * Each authoriser has its own decision cache (see the module documentation); a cached decision is
 * returned as the same frozen object.
 */
export const make = (options: AuthorizerOptions = {}): Effect.Effect<AuthorizerShape, PolicyConfigError> =>
  Effect.gen(function* () {
    const policyText =
      options.extraPolicies === undefined ? PlatformPolicies : `${PlatformPolicies}\n${options.extraPolicies}`
    const policyVersion = policyVersionOf(policyText)
    const engine = yield* load({
      schemaText: CedarSchema,
      schemaKey: sha256(CedarSchema),
      sources: [
        { text: PlatformPolicies, origin: "platform" },
        ...(options.extraPolicies === undefined
          ? []
          : [{ text: options.extraPolicies, origin: "tenant" as const }])
      ],
      policyKey: sha256(policyText),
      reservedPrefix: PlatformIdPrefix
    })
    const cache = makeDecisionCache()
    const authorize = (req: PolicyRequest): Effect.Effect<PolicyDecision> =>
      Effect.clockWith((clock) => {
        const { decision, request, cached } = decide(
          engine,
          policyVersion,
          cache,
          clock.unsafeCurrentTimeNanos(),
          req
        )
        return Effect.as(
          Effect.annotateCurrentSpan({
            "cordon.tenant": request?.principal.tenant ?? "",
            "cordon.policy.action": request?.action ?? "",
            "cordon.policy.decision": decision.decision,
            "cordon.policy.code": decision.code ?? "",
            "cordon.policy.version": policyVersion,
            "cordon.policy.cached": cached
          }),
          decision
        )
      }).pipe(Effect.withSpan("Authorizer.authorize", { captureStackTrace: false }))
    return { policyVersion, authorize }
  })

/**
 * The `Authorizer` service tag. `Authorizer.layer` builds it from the platform policies alone;
 * `Authorizer.layerWith(options)` adds tenant policies; both fail with `PolicyConfigError`.
 */
export class Authorizer extends Context.Tag("@cordon/policy/Authorizer")<Authorizer, AuthorizerShape>() {
  /** See {@link make}. */
  static readonly make = make
  /** The authoriser over `PlatformPolicies` only. */
  static readonly layer: Layer.Layer<Authorizer, PolicyConfigError> = Layer.effect(Authorizer, make())
  /** The authoriser over `PlatformPolicies` plus `options.extraPolicies`. */
  static readonly layerWith = (options: AuthorizerOptions): Layer.Layer<Authorizer, PolicyConfigError> =>
    Layer.effect(Authorizer, make(options))
}
