import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { decodeProtectedHeader } from "jose"
import {
  type CallTokenRequest,
  canonicalJson,
  KeyRing,
  requestBinding,
  TokenService,
  tenantIssuer,
  tokenHash,
  toolAudience,
  type VerifyCallOptions,
  verifyCallToken,
  verifyChain
} from "../src/index.js"
import { A, atNow, NOW, rootRequest, TestLayer, verifyOptions } from "./support.js"

const args = canonicalJson({ id: "doc-1", limit: 5 })
const binding = requestBinding("docs.get", args)

const callRequest = (chain: ReadonlyArray<string>, overrides: Partial<CallTokenRequest> = {}) => ({
  chain,
  audience: toolAudience("docs.get"),
  requiredScopes: ["crm:read"],
  requestedScopes: ["crm:read"],
  binding,
  ttlSeconds: 30,
  maxDepth: 4,
  tenant: A,
  ...overrides
})

/** A root token, a call token for `docs.get` minted from it, and the worker-side verify options. */
const setup = Effect.gen(function* () {
  yield* atNow
  const tokens = yield* TokenService
  const root = yield* tokens.mintRoot(rootRequest())
  const call = yield* tokens.exchangeForCall(callRequest([root.token]))
  const jwks = yield* (yield* KeyRing).jwks(A)
  const options: VerifyCallOptions = {
    tenant: A,
    issuer: tenantIssuer(A),
    jwks,
    audience: toolAudience("docs.get"),
    binding,
    parent: { claims: root.claims, hash: tokenHash(root.token) },
    isRevoked: () => false,
    now: new Date(NOW * 1000)
  }
  return { tokens, root, call, options }
})

describe("canonicalJson", () => {
  it("sorts keys at every depth, drops undefined members and refuses non-JSON", () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }], e: undefined })).toBe(
      '{"a":[{"c":null,"d":true}],"b":1}'
    )
    expect(canonicalJson({ b: 2, a: 1 })).toBe(canonicalJson({ a: 1, b: 2 }))
    for (const bad of [undefined, () => 1, 1n, Number.NaN, new Date(0), [undefined]]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError)
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalJson(cyclic)).toThrow(TypeError)
  })

  it("binds the tool name and the arguments", () => {
    expect(binding).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(requestBinding("docs.list", args)).not.toBe(binding)
    expect(requestBinding("docs.get", canonicalJson({ id: "doc-2", limit: 5 }))).not.toBe(binding)
  })
})

describe("TokenService.exchangeForCall", () => {
  it.effect("TM-07 mints a cordon-call+jwt token for exactly the tool's scopes, bound to the caller", () =>
    Effect.gen(function* () {
      const { root, call } = yield* setup
      expect(decodeProtectedHeader(call.token).typ).toBe("cordon-call+jwt")
      expect(call.claims).toMatchObject({
        aud: "tool:docs.get",
        sub: root.claims.sub,
        scp: ["crm:read"],
        dep: 0,
        prev: tokenHash(root.token),
        rqb: binding,
        exp: NOW + 30
      })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("TM-07 wildcards and whole-catalogue requests are refused with E_TOKEN_POLICY", () =>
    Effect.gen(function* () {
      const { tokens, root } = yield* setup
      const cases = [
        [{ requestedScopes: ["*"] }, "wildcard"],
        [{ requestedScopes: ["crm:*"] }, "wildcard"],
        [{ requiredScopes: ["crm:*"] }, "wildcard"],
        [{ requestedScopes: ["crm:read", "mail:read"] }, "catalogue"],
        [{ requestedScopes: [] }, "scope_empty"],
        [{ audience: "spiffe://x/tenant/a/agent/b" }, "identifier"],
        [{ binding: "not-a-hash" }, "identifier"]
      ] as const
      for (const [overrides, reason] of cases) {
        const err = yield* Effect.flip(tokens.exchangeForCall(callRequest([root.token], overrides)))
        expect(err).toMatchObject({ code: "E_TOKEN_POLICY", reason })
      }
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("DS-04 a tool scope the caller's token does not hold is ScopeEscalation", () =>
    Effect.gen(function* () {
      const { tokens, root } = yield* setup
      const err = yield* Effect.flip(
        tokens.exchangeForCall(
          callRequest([root.token], { requiredScopes: ["pay:refund"], requestedScopes: ["pay:refund"] })
        )
      )
      expect(err).toMatchObject({ code: "E_SCOPE_ESCALATION", reason: "exceeds_parent" })
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect("a call token never verifies as a task token", () =>
    Effect.gen(function* () {
      const { call } = yield* setup
      const jwks = yield* (yield* KeyRing).jwks(A)
      const err = yield* Effect.flip(verifyChain([call.token], verifyOptions(jwks)))
      expect(err).toMatchObject({ code: "E_TOKEN_INVALID", reason: "typ" })
    }).pipe(Effect.provide(TestLayer))
  )
})

describe("verifyCallToken", () => {
  it.effect("accepts the token for its tool, arguments and caller", () =>
    Effect.gen(function* () {
      const { call, options } = yield* setup
      expect(Either.getOrThrow(verifyCallToken(call.token, options)).jti).toBe(call.claims.jti)
    }).pipe(Effect.provide(TestLayer))
  )

  it.effect(
    "RP-03 another tool is AudienceMismatch; changed arguments are TokenInvalid(request_binding)",
    () =>
      Effect.gen(function* () {
        const { call, options } = yield* setup
        const otherTool = verifyCallToken(call.token, {
          ...options,
          audience: toolAudience("email.send"),
          binding: requestBinding("email.send", args)
        })
        expect(Either.flip(otherTool)).toEqual(
          Either.right(expect.objectContaining({ code: "E_AUDIENCE_MISMATCH" }))
        )
        const otherArgs = verifyCallToken(call.token, {
          ...options,
          binding: requestBinding("docs.get", canonicalJson({ id: "doc-2", limit: 5 }))
        })
        expect(Either.flip(otherArgs)).toEqual(
          Either.right(expect.objectContaining({ code: "E_TOKEN_INVALID", reason: "request_binding" }))
        )
      }).pipe(Effect.provide(TestLayer))
  )

  it.effect("refuses a task token, a revoked or expired call token, and another caller's", () =>
    Effect.gen(function* () {
      const { tokens, root, call, options } = yield* setup
      const code = (r: Either.Either<unknown, { code: string }>) => (Either.isLeft(r) ? r.left.code : "ok")
      expect(code(verifyCallToken(root.token, options))).toBe("E_TOKEN_INVALID")
      expect(code(verifyCallToken(call.token, { ...options, isRevoked: () => true }))).toBe("E_TOKEN_REVOKED")
      expect(code(verifyCallToken(call.token, { ...options, now: new Date((NOW + 120) * 1000) }))).toBe(
        "E_TOKEN_EXPIRED"
      )
      const other = yield* tokens.mintRoot(rootRequest({ txn: "task-2" }))
      const wrongParent = { claims: other.claims, hash: tokenHash(other.token) }
      expect(code(verifyCallToken(call.token, { ...options, parent: wrongParent }))).toBe(
        "E_DELEGATION_CHAIN"
      )
      expect(code(verifyCallToken(call.token, { ...options, tenant: "tenant-b" }))).toBe("E_TENANT_MISMATCH")
    }).pipe(Effect.provide(TestLayer))
  )
})
