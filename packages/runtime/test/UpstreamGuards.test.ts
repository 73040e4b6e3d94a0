import { describe, expect, it } from "vitest"
import { Breakers, Budgets } from "../src/internal/upstreamGuards.js"

describe("Budgets", () => {
  const limits = { windowMs: 1000, tenantCalls: 5, tenantCost: 8, sessionCalls: 3 }

  it("refuses a tenant's call past its call budget and leaves other tenants untouched", () => {
    const b = new Budgets({ ...limits, sessionCalls: 100 })
    for (let i = 0; i < 5; i++) expect(b.charge("a", "s", 1, 0)).toBeUndefined()
    expect(b.charge("a", "s", 1, 10)).toBe("calls")
    expect(b.charge("b", "s", 1, 10)).toBeUndefined()
    // A new window starts afresh.
    expect(b.charge("a", "s", 1, 1000)).toBeUndefined()
  })

  it("refuses past the session's call budget and past the cost budget, charging nothing then", () => {
    const b = new Budgets(limits)
    for (let i = 0; i < 3; i++) expect(b.charge("a", "s1", 1, 0)).toBeUndefined()
    expect(b.charge("a", "s1", 1, 0)).toBe("calls")
    expect(b.charge("a", "s2", 6, 0)).toBe("cost")
    expect(b.charge("a", "s2", 5, 0)).toBeUndefined()
    // A fresh session window does not reset the tenant's budget: its cost is spent.
    b.forgetSession("a", "s1")
    expect(b.charge("a", "s1", 1, 0)).toBe("cost")
  })
})

describe("Breakers", () => {
  const settings = { failureThreshold: 3, cooldownMs: 500 }

  it("opens after N consecutive failures, lets one trial through after the cooldown, closes on success", () => {
    const b = new Breakers(settings)
    for (let i = 0; i < 3; i++) {
      expect(b.admit("a", "mcp", i)).toBe("closed")
      b.record("a", "mcp", false, i)
    }
    expect(b.admit("a", "mcp", 10)).toBe("open")
    expect(b.admit("b", "mcp", 10)).toBe("closed")
    expect(b.admit("a", "other", 10)).toBe("closed")
    expect(b.admit("a", "mcp", 600)).toBe("half-open")
    // Only one trial at a time.
    expect(b.admit("a", "mcp", 601)).toBe("open")
    b.record("a", "mcp", true, 650)
    expect(b.admit("a", "mcp", 651)).toBe("closed")
  })

  it("a failed trial re-opens the circuit at once; a success in between resets the count", () => {
    const b = new Breakers(settings)
    b.record("a", "x", false, 0)
    b.record("a", "x", false, 0)
    b.record("a", "x", true, 0)
    b.record("a", "x", false, 0)
    expect(b.state("a", "x", 1)).toBe("closed")
    b.record("a", "x", false, 0)
    b.record("a", "x", false, 0)
    expect(b.state("a", "x", 1)).toBe("open")
    expect(b.admit("a", "x", 600)).toBe("half-open")
    b.record("a", "x", false, 600)
    expect(b.admit("a", "x", 700)).toBe("open")
  })
})
