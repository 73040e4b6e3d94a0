import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { agentSpiffeId, isValidName, isValidTenantId, parseSpiffeId, SpiffeId } from "../src/index.js"

const reasonOf = (uri: string) =>
  Either.match(parseSpiffeId(uri), { onLeft: (e) => e.reason, onRight: () => "ok" })

describe("SpiffeId", () => {
  it("parses a Cordon agent ID, reading tenant and agent from the path", () => {
    const parsed = parseSpiffeId("spiffe://cordon.local/tenant/acme-1/agent/mail.triage_v2")
    expect(parsed).toEqual(
      Either.right(
        new SpiffeId({
          trustDomain: "cordon.local",
          tenant: "acme-1",
          agent: "mail.triage_v2",
          uri: "spiffe://cordon.local/tenant/acme-1/agent/mail.triage_v2"
        })
      )
    )
  })

  it.each([
    ["https://cordon.local/tenant/a/agent/b", "scheme"],
    ["SPIFFE://cordon.local/tenant/a/agent/b", "scheme"],
    ["", "scheme"],
    ["spiffe://Cordon.local/tenant/a/agent/b", "trust_domain"],
    ["spiffe:///tenant/a/agent/b", "trust_domain"],
    ["spiffe://user@cordon.local/tenant/a/agent/b", "trust_domain"],
    ["spiffe://cordon.local:8443/tenant/a/agent/b", "trust_domain"],
    ["spiffe://cordon.local", "shape"],
    ["spiffe://cordon.local/", "path"],
    ["spiffe://cordon.local/tenant/a/agent/b/", "path"],
    ["spiffe://cordon.local/tenant//agent/b", "path"],
    ["spiffe://cordon.local/tenant/./agent/b", "path"],
    ["spiffe://cordon.local/tenant/../agent/b", "path"],
    ["spiffe://cordon.local/tenant/a/agent/b?x=1", "path"],
    ["spiffe://cordon.local/tenant/a/agent/b#frag", "path"],
    ["spiffe://cordon.local/tenant/a/agent/%62", "path"],
    ["spiffe://cordon.local/tenant/a/agent/b/extra", "shape"],
    ["spiffe://cordon.local/agent/b/tenant/a", "shape"],
    ["spiffe://cordon.local/tenant/A/agent/b", "tenant"],
    ["spiffe://cordon.local/tenant/-a/agent/b", "tenant"],
    ["spiffe://cordon.local/tenant/a/agent/B", "agent"],
    ["spiffe://cordon.local/tenant/a/agent/_b", "agent"]
  ])("rejects %s with reason %s and code E_INVALID_IDENTIFIER", (uri, reason) => {
    expect(reasonOf(uri)).toBe(reason)
    const left = parseSpiffeId(uri)
    expect(Either.isLeft(left) && left.left.code).toBe("E_INVALID_IDENTIFIER")
  })

  it("checks the 2048-byte limit, in bytes rather than characters", () => {
    const base = "spiffe://cordon.local/tenant/a/agent/b"
    expect(reasonOf(base + "/x".repeat(1100))).toBe("length")
    expect(reasonOf(base + "é".repeat(1100))).toBe("length")
  })

  it.effect("agentSpiffeId builds the canonical URI", () =>
    Effect.gen(function* () {
      const id = yield* agentSpiffeId("cordon.local", "acme", "writer")
      expect(id.uri).toBe("spiffe://cordon.local/tenant/acme/agent/writer")
      expect(id.tenant).toBe("acme")
    })
  )

  it.effect("agentSpiffeId fails with InvalidSpiffeId for path injection in its parts", () =>
    Effect.gen(function* () {
      for (const [td, tenant, agent, reason] of [
        ["cordon.local", "acme/agent/x", "writer", "tenant"],
        ["cordon.local", "acme", "../writer", "agent"],
        ["cordon.local", "acme", "..", "agent"],
        ["cordon.local/tenant/b", "acme", "writer", "trust_domain"]
      ] as const) {
        const err = yield* Effect.flip(agentSpiffeId(td, tenant, agent))
        expect(err).toMatchObject({ _tag: "InvalidSpiffeId", code: "E_INVALID_IDENTIFIER", reason })
      }
    })
  )

  it("id helpers follow the tenant and agent name rules", () => {
    expect(isValidTenantId("a")).toBe(true)
    expect(isValidTenantId("a".repeat(63))).toBe(true)
    expect(isValidTenantId("a".repeat(64))).toBe(false)
    expect(isValidTenantId("tenant_a")).toBe(false)
    expect(isValidTenantId("tenant.a")).toBe(false)
    expect(isValidTenantId("-a")).toBe(false)
    expect(isValidTenantId("")).toBe(false)
    expect(isValidName("mail.triage_v2")).toBe(true)
    expect(isValidName(".hidden")).toBe(false)
    expect(isValidName("Agent")).toBe(false)
    expect(isValidName("a b")).toBe(false)
  })
})
