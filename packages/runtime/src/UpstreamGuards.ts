/**
 * The broker's shared-upstream guards as a service: per-tenant and per-session call and cost budgets
 * and per-(tenant, dependency) circuit breakers (see `internal/upstreamGuards.ts`), sized from
 * `RuntimeConfig`. One instance per broker; every task of every tenant charges the same instance.
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Breakers, Budgets } from "./internal/upstreamGuards.js"
import { RuntimeConfig } from "./RuntimeConfig.js"

export interface UpstreamGuardsApi {
  readonly budgets: Budgets
  readonly breakers: Breakers
}

export class UpstreamGuards extends Context.Tag("@cordon/runtime/UpstreamGuards")<
  UpstreamGuards,
  UpstreamGuardsApi
>() {}

/** Guards sized by `RuntimeConfig.upstream`. */
export const layer: Layer.Layer<UpstreamGuards, never, RuntimeConfig> = Layer.effect(
  UpstreamGuards,
  Effect.map(RuntimeConfig, (config) => ({
    budgets: new Budgets(config.upstream.budgets),
    breakers: new Breakers(config.upstream.breaker)
  }))
)
