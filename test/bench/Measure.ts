/**
 * Measures one {@link Bench} with tinybench: setup, warm-up, measured iterations, teardown. Statistics
 * (median, p99) are tinybench's; this module only converts between the benchmark's unit and tinybench's
 * milliseconds.
 *
 * @module
 */
import { Bench as Tinybench, type FnReturnedObject } from "tinybench"
import type { Bench, Unit } from "./Bench.js"

/** Defaults applied when a benchmark does not set its own budget. */
export const DEFAULTS = { iterations: 200, time: 1500, warmupIterations: 50, warmupTime: 300 } as const

/** Median and 99th percentile of one benchmark, in its unit, and the number of measured samples. */
export interface Measurement {
  readonly median: number
  readonly p99: number
  readonly samples: number
}

/**
 * A sample in `unit` as tinybench's millisecond "duration". `MB` samples are carried unchanged: tinybench
 * only orders and interpolates them, so the statistic comes back in MB.
 */
const toTinybench = (unit: Unit, value: number): number => (unit === "us" ? value / 1000 : value)
const fromTinybench = (unit: Unit, value: number): number => (unit === "us" ? value * 1000 : value)

const isPromise = (u: unknown): u is Promise<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

/**
 * Runs `spec.setup`, then tinybench (warm-up, then at least `iterations` samples over at least `time`
 * ms), then `spec.teardown` (also on failure). Rejects with the benchmark's own error when setup, an
 * iteration or teardown throws.
 */
export const measure = async (spec: Bench): Promise<Measurement> => {
  const state = spec.setup === undefined ? undefined : await spec.setup()
  try {
    const tinybench = new Tinybench({
      name: spec.name,
      iterations: spec.iterations ?? DEFAULTS.iterations,
      time: spec.time ?? DEFAULTS.time,
      warmupIterations: spec.warmupIterations ?? DEFAULTS.warmupIterations,
      warmupTime: spec.warmupTime ?? DEFAULTS.warmupTime,
      throws: true
    })
    const returned = spec.sample === "returned"
    const finish = (value: unknown, start: number): FnReturnedObject => {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new Error(`${spec.name}: run must return a finite number sample`)
      }
      return {
        overriddenDuration: toTinybench(spec.unit, value),
        overriddenIterationCost: performance.now() - start
      }
    }
    tinybench.add(
      spec.name,
      returned
        ? () => {
            const start = performance.now()
            const out = spec.run(state)
            return isPromise(out) ? out.then((value) => finish(value, start)) : finish(out, start)
          }
        : () => spec.run(state)
    )
    const [task] = await tinybench.run()
    const result = task?.result
    if (result === undefined) throw new Error(`${spec.name}: tinybench returned no task`)
    if (result.state === "errored") throw result.error
    if (result.state !== "completed") throw new Error(`${spec.name}: run ended in state ${result.state}`)
    return {
      median: fromTinybench(spec.unit, result.latency.p50),
      p99: fromTinybench(spec.unit, result.latency.p99),
      samples: result.latency.samplesCount
    }
  } finally {
    if (spec.teardown !== undefined) await spec.teardown(state)
  }
}
