/**
 * Guards on shared upstreams, kept by the broker per tenant (so one tenant can neither drain a shared
 * quota nor make another tenant's calls fail):
 *
 * - {@link Budgets}: fixed-window budgets of tool calls and cost units per tenant and per session,
 *   checked before a call is allowed (RE-03). Cost is the tool's declared cost per call (default 1).
 * - {@link Breakers}: a circuit breaker per (tenant, dependency): after `failureThreshold` consecutive
 *   failures the circuit opens for `cooldownMs`; then one trial call is let through (half-open), whose
 *   success closes it and whose failure re-opens it (CF-03).
 *
 * Times are milliseconds on a monotonic clock passed in by the caller. Synchronous and single-threaded
 * (the broker's event loop); no method yields.
 *
 * @module
 */

/** Limits of {@link Budgets}; every number is an integer ≥ 1. */
export interface BudgetLimits {
  /** Length of one budget window, in milliseconds. */
  readonly windowMs: number
  /** Tool calls one tenant may make per window. */
  readonly tenantCalls: number
  /** Cost units one tenant may spend per window. */
  readonly tenantCost: number
  /** Tool calls one session may make per window. */
  readonly sessionCalls: number
}

interface Window {
  start: number
  calls: number
  cost: number
}

/** Which budget refused a call. */
export type BudgetRefusal = "calls" | "cost"

/** Per-tenant and per-session budgets; see the module documentation. */
export class Budgets {
  private readonly tenants = new Map<string, Window>()
  private readonly sessions = new Map<string, Window>()

  constructor(private readonly limits: BudgetLimits) {}

  private windowOf(map: Map<string, Window>, key: string, now: number): Window {
    let w = map.get(key)
    if (w === undefined || now - w.start >= this.limits.windowMs) {
      w = { start: now, calls: 0, cost: 0 }
      map.set(key, w)
    }
    return w
  }

  /**
   * Charges one call of `cost` units to `tenant` and its `session` when both budgets allow it; returns
   * `undefined` when charged, else which budget refused (and nothing is charged).
   */
  charge(tenant: string, session: string, cost: number, now: number): BudgetRefusal | undefined {
    const t = this.windowOf(this.tenants, tenant, now)
    const s = this.windowOf(this.sessions, `${tenant}/${session}`, now)
    if (t.calls + 1 > this.limits.tenantCalls || s.calls + 1 > this.limits.sessionCalls) return "calls"
    if (t.cost + cost > this.limits.tenantCost) return "cost"
    t.calls += 1
    t.cost += cost
    s.calls += 1
    s.cost += cost
    return undefined
  }

  /** Forgets a session's window (session end). */
  forgetSession(tenant: string, session: string): void {
    this.sessions.delete(`${tenant}/${session}`)
  }
}

/** Settings of {@link Breakers}. */
export interface BreakerSettings {
  /** Consecutive failures that open a circuit (integer ≥ 1). */
  readonly failureThreshold: number
  /** How long an open circuit refuses calls before a trial, in milliseconds. */
  readonly cooldownMs: number
}

interface Circuit {
  failures: number
  openedAt: number | undefined
  trialInFlight: boolean
}

/** The state a call found its circuit in. */
export type CircuitState = "closed" | "open" | "half-open"

/** Circuit breakers keyed by tenant and dependency; see the module documentation. */
export class Breakers {
  private readonly circuits = new Map<string, Circuit>()

  constructor(private readonly settings: BreakerSettings) {}

  private circuitOf(tenant: string, dependency: string): Circuit {
    const key = `${tenant}\u0000${dependency}`
    let c = this.circuits.get(key)
    if (c === undefined) {
      c = { failures: 0, openedAt: undefined, trialInFlight: false }
      this.circuits.set(key, c)
    }
    return c
  }

  /**
   * Whether a call may go ahead now: `closed` (yes), `half-open` (yes: this call is the one trial) or
   * `open` (no: refuse with `E_CIRCUIT_OPEN`).
   */
  admit(tenant: string, dependency: string, now: number): CircuitState {
    const c = this.circuitOf(tenant, dependency)
    if (c.openedAt === undefined) return "closed"
    if (now - c.openedAt < this.settings.cooldownMs || c.trialInFlight) return "open"
    c.trialInFlight = true
    return "half-open"
  }

  /** Records a call's outcome: a success closes the circuit, a failure counts towards opening it. */
  record(tenant: string, dependency: string, ok: boolean, now: number): void {
    const c = this.circuitOf(tenant, dependency)
    const wasTrial = c.trialInFlight
    c.trialInFlight = false
    if (ok) {
      c.failures = 0
      c.openedAt = undefined
      return
    }
    c.failures += 1
    if (wasTrial || c.failures >= this.settings.failureThreshold) c.openedAt = now
  }

  /** The circuit's state without admitting anything (reports, tests). */
  state(tenant: string, dependency: string, now: number): CircuitState {
    const c = this.circuitOf(tenant, dependency)
    if (c.openedAt === undefined) return "closed"
    return now - c.openedAt < this.settings.cooldownMs ? "open" : "half-open"
  }
}

/**
 * Per-task step counters: handoffs (sub-agent spawns), tool calls, and denials per agent (an agent
 * denied `quarantineAfter` times in one task is quarantined for the rest of it: CF-04).
 */
export class TaskCounters {
  handoffs = 0
  steps = 0
  private readonly denials = new Map<string, number>()
  private readonly quarantined = new Set<string>()

  /** Counts a deny of `agent`; `true` exactly when this deny puts the agent in quarantine. */
  denied(agent: string, quarantineAfter: number): boolean {
    const n = (this.denials.get(agent) ?? 0) + 1
    this.denials.set(agent, n)
    if (n >= quarantineAfter && !this.quarantined.has(agent)) {
      this.quarantined.add(agent)
      return true
    }
    return false
  }

  isQuarantined(agent: string): boolean {
    return this.quarantined.has(agent)
  }
}
