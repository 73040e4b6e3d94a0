/**
 * The benchmark registry API. Each `test/bench/<area>.bench.ts` file exports
 * `benches: ReadonlyArray<Bench>`; `run.ts` discovers those files and measures every entry with tinybench.
 *
 * @module
 */

/** Unit a benchmark reports in: microseconds or milliseconds per operation, or megabytes. */
export type Unit = "us" | "ms" | "MB"

/** One benchmark, with the type of the state its `setup` builds. */
export interface BenchSpec<S> {
  /** Unique name across the repository, `<area>.<what>[.<variant>]`, e.g. `identity.raw.sign`. */
  readonly name: string
  readonly unit: Unit
  /** Name of the benchmark this one is compared with (its `ratio` = this median / that median). */
  readonly baseline?: string
  /** Builds the state once, before warm-up; not measured. */
  readonly setup?: () => Promise<S>
  /** One measured operation. Its wall time is the sample, unless `sample` is `"returned"`. */
  readonly run: (state: S) => unknown
  /**
   * `"wall"` (default): the sample is `run`'s wall time (awaited when it returns a promise).
   * `"returned"`: `run` returns (or resolves to) the sample itself, a number in `unit` — for `MB`, or for a
   * section the benchmark times itself.
   */
  readonly sample?: "wall" | "returned"
  /** Releases the state after the measurement (also when it fails). */
  readonly teardown?: (state: S) => Promise<void> | void
  /** Minimum measured iterations (default 200). */
  readonly iterations?: number
  /** Minimum measuring time in ms (default 1500); `0` runs exactly `iterations`. */
  readonly time?: number
  /** Minimum warm-up iterations (default 50). */
  readonly warmupIterations?: number
  /** Minimum warm-up time in ms (default 300); `0` warms up for exactly `warmupIterations`. */
  readonly warmupTime?: number
  /**
   * Extra text for the printed table (not the JSON), given every median of the run in its own unit,
   * e.g. a target ratio the issue states.
   */
  readonly note?: (medianOf: (name: string) => number | undefined) => string | undefined
}

/** A benchmark with its state type erased, as registered in a `benches` array. */
export type Bench = BenchSpec<unknown>

/** Declares a benchmark, checking `setup`/`run`/`teardown` agree on the state type `S`. */
export const bench = <S = undefined>(spec: BenchSpec<S>): Bench => spec as unknown as Bench

/** One row of the JSON report: `median`/`p99` in `unit`; `ratio` = median / the baseline's median. */
export interface BenchResult {
  readonly name: string
  readonly unit: Unit
  readonly median: number
  readonly p99: number
  readonly baseline: string | null
  readonly ratio: number | null
}
