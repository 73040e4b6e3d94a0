/**
 * The benchmark runner behind `pnpm bench --out <file.json>`: discovers every `*.bench.ts` file next to
 * this one, runs their benchmarks in order (files by name, benchmarks in array order), writes the JSON
 * array of {@link BenchResult} rows to `--out` and prints the same as a table.
 *
 * Options: `--out <file>` (relative to the directory the command was run from: pnpm's `INIT_CWD`, else
 * the working directory); `--filter <text>` runs only benchmarks whose name contains `text`, plus their
 * baselines. Exits 1 when a benchmark throws (the others still run and are written), 2 on bad usage.
 *
 * @module
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import type { Bench } from "./Bench.js"
import { type Measurement, measure } from "./Measure.js"
import { formatTable, toResults } from "./Report.js"

const usage = "usage: pnpm bench [--out <file.json>] [--filter <name-part>]"

const fail = (message: string): never => {
  console.error(message)
  process.exit(2)
}

const isBench = (u: unknown): u is Bench =>
  typeof u === "object" &&
  u !== null &&
  typeof (u as Bench).name === "string" &&
  ["us", "ms", "MB"].includes((u as Bench).unit) &&
  typeof (u as Bench).run === "function"

/** Every benchmark of every `*.bench.ts` file in this directory, checked for unique names and known baselines. */
const discover = async (): Promise<ReadonlyArray<Bench>> => {
  const dir = import.meta.dirname
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith(".bench.ts")).sort()
  const all: Array<Bench> = []
  for (const file of files) {
    const mod: { benches?: unknown } = await import(pathToFileURL(path.join(dir, file)).href)
    if (!Array.isArray(mod.benches) || !mod.benches.every(isBench)) {
      fail(`${file}: must export benches: ReadonlyArray<Bench>`)
    }
    all.push(...(mod.benches as ReadonlyArray<Bench>))
  }
  const names = new Set<string>()
  for (const b of all) {
    if (names.has(b.name)) fail(`duplicate benchmark name ${b.name}`)
    names.add(b.name)
  }
  for (const b of all) {
    if (b.baseline !== undefined && !names.has(b.baseline)) fail(`${b.name}: unknown baseline ${b.baseline}`)
  }
  return all
}

/** The benchmarks matching `filter`, plus the baselines they are compared with, in discovery order. */
const select = (all: ReadonlyArray<Bench>, filter: string | undefined): ReadonlyArray<Bench> => {
  if (filter === undefined) return all
  const wanted = new Set(all.filter((b) => b.name.includes(filter)).map((b) => b.name))
  for (const b of all) if (wanted.has(b.name) && b.baseline !== undefined) wanted.add(b.baseline)
  return all.filter((b) => wanted.has(b.name))
}

const main = async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { out: { type: "string" }, filter: { type: "string" }, help: { type: "boolean" } },
    strict: true
  })
  if (values.help === true) {
    console.log(usage)
    return
  }
  const out =
    values.out === undefined ? undefined : path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out)
  const benches = select(await discover(), values.filter)
  if (benches.length === 0) fail("no benchmark matches")

  const measured = new Map<string, Measurement>()
  const failed: Array<string> = []
  const started = performance.now()
  for (const b of benches) {
    process.stderr.write(`bench ${b.name} ... `)
    const t0 = performance.now()
    try {
      const m = await measure(b)
      measured.set(b.name, m)
      process.stderr.write(`${m.samples} samples, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
    } catch (error) {
      failed.push(b.name)
      process.stderr.write("FAILED\n")
      console.error(error)
    }
  }

  const results = toResults(benches, measured)
  if (out !== undefined) {
    await fs.mkdir(path.dirname(out), { recursive: true })
    await fs.writeFile(out, `${JSON.stringify(results, null, 2)}\n`)
  }
  console.log(formatTable(results, benches, measured))
  const total = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`\n${results.length} benchmarks in ${total} s${out === undefined ? "" : `, written to ${out}`}`)
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(", ")}`)
    process.exitCode = 1
  }
}

// Exit explicitly: a benchmark's leftover handle must not keep the process alive after the report.
main().then(
  () => process.exit(),
  (error: unknown) => {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : ""
    console.error(code.startsWith("ERR_PARSE_ARGS") ? `${String(error)}\n${usage}` : error)
    process.exit(code.startsWith("ERR_PARSE_ARGS") ? 2 : 1)
  }
)
