/**
 * The policy decision point: a Cedar authoriser over the platform policy set (plus optional tenant
 * policies), validated against `CedarSchema` in strict mode at boot and evaluated per request with
 * `statefulIsAuthorized` and request validation on. It fails closed: a request that does not
 * decode or validate, or any policy evaluation error, is a deny with `E_POLICY_EVALUATION`.
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

/** The decision for `input`, and the decoded request when `input` decoded. */
const decide = (
  engine: Engine,
  policyVersion: string,
  input: unknown
): readonly [PolicyDecision, PolicyRequest | undefined] => {
  const request = decodeRequest(input)
  if (Either.isLeft(request)) {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(request.left)
    const errors = issues.map((i) => `request.${i.path.join(".")}: ${i.message}`)
    return [evaluationError(policyVersion, errors), undefined]
  }
  return [fromEvaluation(evaluate(engine, toCedarCall(request.right)), policyVersion), request.right]
}

/**
 * Builds an authoriser from `PlatformPolicies` plus `options.extraPolicies` (joined by a newline;
 * that text is what `policyVersion` hashes). Loading parses and strictly validates the schema and
 * every policy, then pre-parses them into cedar-wasm's thread-local cache, so use the service on
 * the thread that built it. Fails with `PolicyConfigError` (`E_CONFIG`) on any load error.
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
    const authorize = (req: PolicyRequest): Effect.Effect<PolicyDecision> =>
      Effect.suspend(() => {
        const [decision, request] = decide(engine, policyVersion, req)
        return Effect.as(
          Effect.annotateCurrentSpan({
            "cordon.tenant": request?.principal.tenant ?? "",
            "cordon.policy.action": request?.action ?? "",
            "cordon.policy.decision": decision.decision,
            "cordon.policy.code": decision.code ?? "",
            "cordon.policy.version": policyVersion
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
