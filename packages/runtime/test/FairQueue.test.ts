import { describe, expect, it } from "vitest"
import { FairQueue } from "../src/FairQueue.js"

const drainOrder = (q: FairQueue, n: number) => {
  const order: Array<string> = []
  for (let i = 0; i < n; i++) {
    const p = q.next()
    if (p === undefined) break
    order.push(p.id)
    q.finished(p.tenant)
  }
  return order
}

describe("FairQueue", () => {
  it("serves a victim's task right after a flooding tenant's current turn", () => {
    const q = new FairQueue({ tenantConcurrency: 4, maxRunning: 8, tenantQueueLimit: 10_000 })
    for (let i = 0; i < 1000; i++) q.enqueue("flood", `f${i}`)
    q.enqueue("victim", "v0")
    const order = drainOrder(q, 4)
    expect(order.indexOf("v0")).toBeLessThanOrEqual(1)
  })

  it("round-robins tenants with equal costs", () => {
    const q = new FairQueue({ tenantConcurrency: 4, maxRunning: 8, tenantQueueLimit: 100 })
    for (const t of ["a", "b", "c"]) for (let i = 0; i < 3; i++) q.enqueue(t, `${t}${i}`)
    expect(drainOrder(q, 9)).toEqual(["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"])
  })

  it("gives a tenant with cost-2 tasks half the task rate (deficit round-robin)", () => {
    const q = new FairQueue({ tenantConcurrency: 4, maxRunning: 8, tenantQueueLimit: 100 })
    for (let i = 0; i < 4; i++) q.enqueue("heavy", `h${i}`, { cost: 2 })
    for (let i = 0; i < 4; i++) q.enqueue("light", `l${i}`)
    const first6 = drainOrder(q, 6)
    expect(first6.filter((id) => id.startsWith("l"))).toHaveLength(4)
    expect(first6.filter((id) => id.startsWith("h"))).toHaveLength(2)
  })

  it("respects the per-tenant and the global running caps", () => {
    const q = new FairQueue({ tenantConcurrency: 2, maxRunning: 3, tenantQueueLimit: 100 })
    for (let i = 0; i < 5; i++) q.enqueue("a", `a${i}`)
    q.enqueue("b", "b0")
    q.enqueue("b", "b1")
    const started = [q.next(), q.next(), q.next(), q.next()]
    expect(started.slice(0, 3).map((p) => p?.id)).toEqual(["a0", "b0", "a1"])
    expect(started[3]).toBeUndefined()
    expect(q.running("a")).toBe(2)
    q.finished("b")
    // a is at its cap: the free slot goes to b
    expect(q.next()?.id).toBe("b1")
    q.finished("b")
    expect(q.next()).toBeUndefined()
    q.finished("a")
    expect(q.next()?.id).toBe("a2")
  })

  it("refuses a tenant's task past its queue limit, unless forced", () => {
    const q = new FairQueue({ tenantConcurrency: 1, maxRunning: 1, tenantQueueLimit: 2 })
    expect(q.enqueue("a", "1")).toBe(true)
    expect(q.enqueue("a", "2")).toBe(true)
    expect(q.enqueue("a", "3")).toBe(false)
    expect(q.enqueue("b", "1")).toBe(true)
    expect(q.enqueue("a", "r", { force: true })).toBe(true)
    expect(q.queued("a")).toBe(3)
  })

  it("removes and drains queued tasks", () => {
    const q = new FairQueue({ tenantConcurrency: 4, maxRunning: 8, tenantQueueLimit: 100 })
    for (let i = 0; i < 3; i++) q.enqueue("a", `a${i}`)
    q.enqueue("b", "b0")
    expect(q.remove("a", "a1")).toBe(true)
    expect(q.remove("a", "a1")).toBe(false)
    expect(q.drain("a", (id) => id === "a2")).toEqual(["a0"])
    expect(drainOrder(q, 5).sort()).toEqual(["a2", "b0"])
    expect(q.queued()).toBe(0)
    expect(q.running()).toBe(0)
  })

  it("rejects invalid limits", () => {
    expect(() => new FairQueue({ tenantConcurrency: 0, maxRunning: 1, tenantQueueLimit: 1 })).toThrow(
      RangeError
    )
  })
})

describe("FairQueue charging actual cost", () => {
  it("a tenant charged for a long task starts fewer tasks until its debt is worked off", () => {
    const q = new FairQueue({ tenantConcurrency: 1, maxRunning: 1, tenantQueueLimit: 100 })
    for (let i = 0; i < 10; i++) {
      q.enqueue("hog", `h${i}`)
      q.enqueue("nice", `n${i}`)
    }
    const first = q.next()
    expect(first?.id).toBe("h0")
    // The hog's task ran 4 units instead of 1.
    q.finished("hog", 3)
    const order: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const p = q.next()
      if (p === undefined) break
      order.push(p.id)
      q.finished(p.tenant)
    }
    // Debt 3 plus its next cost 1: four rounds of credit, one per visit, while nice runs each round.
    expect(order).toEqual(["n0", "n1", "n2", "n3", "h1"])
  })

  it("keeps dispatching when the only tenant with work is in debt (work-conserving)", () => {
    const q = new FairQueue({ tenantConcurrency: 1, maxRunning: 1, tenantQueueLimit: 100 })
    q.enqueue("hog", "h0")
    q.enqueue("hog", "h1")
    q.next()
    q.finished("hog", 50)
    expect(q.next()?.id).toBe("h1")
  })

  it("debt survives an empty queue; unused credit does not", () => {
    const q = new FairQueue({ tenantConcurrency: 1, maxRunning: 1, tenantQueueLimit: 100 })
    q.enqueue("hog", "h0")
    q.next()
    q.finished("hog", 2)
    q.enqueue("hog", "h1")
    q.enqueue("nice", "n0")
    q.enqueue("nice", "n1")
    const order = [q.next()?.id]
    q.finished("nice")
    order.push(q.next()?.id)
    expect(order).toEqual(["n0", "n1"])
  })
})
