/**
 * Turns measurements into the report rows (`ratio` against the baseline measured in the same run) and
 * prints them as a table.
 *
 * @module
 */
import type { Bench, BenchResult } from "./Bench.js"
import type { Measurement } from "./Measure.js"

/** Four significant digits: enough for noisy medians, short in JSON. */
const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x)

/**
 * One row per measured benchmark, in run order. `ratio` is this median over the baseline's median when
 * both were measured in this run (and the baseline's median is not 0), else `null`.
 */
export const toResults = (
  benches: ReadonlyArray<Bench>,
  measured: ReadonlyMap<string, Measurement>
): ReadonlyArray<BenchResult> =>
  benches.flatMap((b) => {
    const m = measured.get(b.name)
    if (m === undefined) return []
    const base = b.baseline === undefined ? undefined : measured.get(b.baseline)
    const ratio = base === undefined || base.median === 0 ? null : round(m.median / base.median)
    return [
      {
        name: b.name,
        unit: b.unit,
        median: round(m.median),
        p99: round(m.p99),
        baseline: b.baseline ?? null,
        ratio
      }
    ]
  })

/** The results as an aligned text table, with each benchmark's `note` (if any) in the last column. */
export const formatTable = (
  results: ReadonlyArray<BenchResult>,
  benches: ReadonlyArray<Bench>,
  measured: ReadonlyMap<string, Measurement>
): string => {
  const medianOf = (name: string) => measured.get(name)?.median
  const notes = new Map(benches.map((b) => [b.name, b.note?.(medianOf) ?? ""]))
  const header = ["name", "unit", "median", "p99", "baseline", "ratio", "note"]
  const rows = results.map((r) => [
    r.name,
    r.unit,
    String(r.median),
    String(r.p99),
    r.baseline ?? "-",
    r.ratio === null ? "-" : `${r.ratio}x`,
    notes.get(r.name) ?? ""
  ])
  const numeric = new Set([2, 3, 5])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}
