import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { decodeTaskClaims, normalizeScopes, tenantIssuer, tokenHash } from "../src/index.js"
import { acmeUri, sampleClaims } from "./support.js"

const uri = acmeUri
const valid = { ...sampleClaims }

describe("Claims", () => {
  it("tokenHash is the unpadded base64url SHA-256 of the compact form", () => {
    const compact = "aGVhZGVy.cGF5bG9hZA.c2ln"
    expect(tokenHash(compact)).toBe(createHash("sha256").update(compact).digest("base64url"))
    expect(tokenHash(compact)).toHaveLength(43)
    expect(tokenHash(compact)).not.toBe(tokenHash(`${compact}x`))
  })

  it("decodes the exact profile, with recursive act", () => {
    expect(decodeTaskClaims(valid)).toEqual(Either.right(valid))
  })

  it.each([
    ["unknown claim", { ...valid, role: "admin" }],
    ["unknown actor member", { ...valid, act: { sub: uri("researcher"), tnt: "other" } }],
    ["actor sub not a SPIFFE ID", { ...valid, act: { sub: "root" } }],
    ["unsorted scopes", { ...valid, scp: ["b:read", "a:read"] }],
    ["duplicate scopes", { ...valid, scp: ["a:read", "a:read"] }],
    ["empty scopes", { ...valid, scp: [] }],
    ["wildcard scope", { ...valid, scp: ["*"] }],
    ["fractional exp", { ...valid, exp: 2.5 }],
    ["negative dep", { ...valid, dep: -1 }],
    ["short jti", { ...valid, jti: "abc" }],
    ["array aud", { ...valid, aud: [uri("writer")] }],
    ["bad tenant", { ...valid, tnt: "Acme" }],
    ["missing jti", { ...valid, jti: undefined }]
  ])("refuses %s", (_, claims) => {
    expect(Either.isLeft(decodeTaskClaims(claims))).toBe(true)
  })

  it("normalizeScopes sorts and de-duplicates", () => {
    expect(normalizeScopes(["b", "a", "b"])).toEqual(["a", "b"])
  })

  it("tenantIssuer joins base and tenant", () => {
    expect(tenantIssuer("acme")).toBe("https://cordon.local/tenant/acme")
    expect(tenantIssuer("acme", "https://id.example/")).toBe("https://id.example/tenant/acme")
  })
})
