/**
 * The scheduler's in-memory view of the durable queue: one FIFO per tenant, served by deficit
 * round-robin (Shreedhar & Varghese, 1996) under a per-tenant and a global cap on running tasks.
 * A task is queued at an estimated cost and, when it ends, charged what it really used (its run time
 * in cost units), so credit tracks the worker time each tenant consumed.
 *
 * Each visit to a tenant with work adds `quantum` to its deficit; it may start its head task when the
 * task's cost fits in the deficit and it runs fewer than `tenantConcurrency` tasks. A tenant with an
 * empty queue leaves the rotation and forfeits its deficit, so a tenant that floods the queue gets one
 * turn per round like any other, and delays only its own tasks. The durable copy of every queued task is
 * the `tasks` table; this structure is rebuilt from it at boot.
 *
 * Not thread-safe; single fiber access (the orchestrator's dispatcher) is assumed: every method is
 * synchronous and does not yield.
 *
 * @module
 */

/** Limits of a {@link FairQueue}; every number is an integer ≥ 1. */
export interface FairQueueOptions {
  /** Tasks of one tenant that may run at once. */
  readonly tenantConcurrency: number
  /** Tasks that may run at once over all tenants. */
  readonly maxRunning: number
  /** Queued (not yet running) tasks one tenant may hold; `enqueue` refuses beyond it. */
  readonly tenantQueueLimit: number
  /** Deficit added per visit (in cost units). Default 1. */
  readonly quantum?: number
}

interface Entry {
  readonly id: string
  readonly cost: number
}

interface TenantQueue {
  readonly tenant: string
  readonly items: Array<Entry>
  deficit: number
  running: number
}

/** A task the dispatcher should start now. */
export interface Pick {
  readonly tenant: string
  readonly id: string
}

/** Per-tenant fair queue; see the module documentation. */
export class FairQueue {
  private readonly tenants = new Map<string, TenantQueue>()
  /** Tenants with queued work, in visiting order; `cursor` is the next to visit. */
  private readonly ring: Array<TenantQueue> = []
  private cursor = 0
  private runningTotal = 0
  private readonly quantum: number

  constructor(private readonly options: FairQueueOptions) {
    for (const [k, v] of Object.entries({ ...options, quantum: options.quantum ?? 1 })) {
      if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`${k} must be an integer ≥ 1`)
    }
    this.quantum = options.quantum ?? 1
  }

  private queueOf(tenant: string): TenantQueue {
    let q = this.tenants.get(tenant)
    if (q === undefined) {
      q = { tenant, items: [], deficit: 0, running: 0 }
      this.tenants.set(tenant, q)
    }
    return q
  }

  /**
   * Appends task `id` (cost in units, integer ≥ 1, default 1) to `tenant`'s queue. Returns `false`, and
   * queues nothing, when the tenant already holds `tenantQueueLimit` queued tasks. With `force` the limit
   * is ignored (tasks that were already accepted: recovery at boot, retries).
   */
  enqueue(
    tenant: string,
    id: string,
    options: { readonly cost?: number; readonly force?: boolean } = {}
  ): boolean {
    const q = this.queueOf(tenant)
    if (options.force !== true && q.items.length >= this.options.tenantQueueLimit) return false
    if (q.items.length === 0) this.ring.push(q)
    q.items.push({ id, cost: Math.max(1, Math.floor(options.cost ?? 1)) })
    return true
  }

  /** Removes a queued task (cancellation); `false` when it is not queued here. */
  remove(tenant: string, id: string): boolean {
    const q = this.tenants.get(tenant)
    const i = q?.items.findIndex((e) => e.id === id) ?? -1
    if (q === undefined || i < 0) return false
    q.items.splice(i, 1)
    if (q.items.length === 0) this.leaveRing(q)
    return true
  }

  /** Removes and returns every queued task of `tenant` (session end, offboarding filter by caller). */
  drain(tenant: string, keep: (id: string) => boolean = () => false): ReadonlyArray<string> {
    const q = this.tenants.get(tenant)
    if (q === undefined) return []
    const removed = q.items.filter((e) => !keep(e.id)).map((e) => e.id)
    const kept = q.items.filter((e) => keep(e.id))
    q.items.splice(0, q.items.length, ...kept)
    if (q.items.length === 0) this.leaveRing(q)
    return removed
  }

  private leaveRing(q: TenantQueue): void {
    const i = this.ring.indexOf(q)
    if (i < 0) return
    this.ring.splice(i, 1)
    if (i < this.cursor) this.cursor -= 1
    if (this.cursor >= this.ring.length) this.cursor = 0
    // An idle tenant forfeits unused credit, but keeps its debt (work it was charged for after the fact).
    q.deficit = Math.min(q.deficit, 0)
  }

  /**
   * The next task to start, marked running, or `undefined` when nothing may start now (queues empty,
   * global cap reached, or every tenant with work at its own cap). Call {@link finished} when it ends.
   * Work-conserving: when the only tenants with work are short of credit, the rounds they would need are
   * granted at once.
   */
  next(): Pick | undefined {
    if (this.runningTotal >= this.options.maxRunning) return undefined
    const pick = this.visit()
    if (pick !== undefined) return pick
    // Nobody could start. If some tenant under its cap lacked only credit, fast-forward the rounds the
    // closest of them needs (every such tenant earns the same credit per round), then visit again.
    let rounds = Number.POSITIVE_INFINITY
    const waiting = this.ring.filter((q) => q.running < this.options.tenantConcurrency)
    for (const q of waiting) {
      const head = q.items[0] as Entry
      rounds = Math.min(rounds, Math.ceil((head.cost - q.deficit) / this.quantum))
    }
    if (!Number.isFinite(rounds) || rounds <= 0) return undefined
    for (const q of waiting) q.deficit += rounds * this.quantum
    return this.visit()
  }

  /** One pass of deficit round-robin: each tenant visited at most twice (top up, then spend). */
  private visit(): Pick | undefined {
    for (let visits = 0; visits < this.ring.length * 2 && this.ring.length > 0; visits++) {
      const q = this.ring[this.cursor] as TenantQueue
      const head = q.items[0] as Entry
      if (q.running >= this.options.tenantConcurrency) {
        this.advance()
        continue
      }
      if (q.deficit < head.cost) {
        q.deficit += this.quantum
        if (q.deficit < head.cost) {
          this.advance()
          continue
        }
      }
      q.items.shift()
      q.deficit -= head.cost
      q.running += 1
      this.runningTotal += 1
      const next = q.items[0]
      if (next === undefined) this.leaveRing(q)
      else if (q.deficit < next.cost) this.advance()
      return { tenant: q.tenant, id: head.id }
    }
    return undefined
  }

  private advance(): void {
    this.cursor = this.ring.length === 0 ? 0 : (this.cursor + 1) % this.ring.length
  }

  /**
   * Marks one running task of `tenant` as ended (whatever the outcome). `extraCost` (units, ≥ 0) charges
   * what the task used beyond the cost it was queued with — e.g. its run time in cost units — as debt
   * the tenant works off before its next start, so a tenant whose tasks burn their whole deadline gets
   * proportionally fewer starts.
   */
  finished(tenant: string, extraCost = 0): void {
    const q = this.tenants.get(tenant)
    if (q === undefined || q.running === 0) return
    q.running -= 1
    this.runningTotal -= 1
    if (extraCost > 0) q.deficit -= extraCost
    if (q.running === 0 && q.items.length === 0 && q.deficit >= 0) this.tenants.delete(tenant)
  }

  /** Queued task count, of one tenant or of all. */
  queued(tenant?: string): number {
    if (tenant !== undefined) return this.tenants.get(tenant)?.items.length ?? 0
    let n = 0
    for (const q of this.tenants.values()) n += q.items.length
    return n
  }

  /** Running task count, of one tenant or of all. */
  running(tenant?: string): number {
    return tenant === undefined ? this.runningTotal : (this.tenants.get(tenant)?.running ?? 0)
  }
}
