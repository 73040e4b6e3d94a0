// Counts the threat-matrix rows that have a test: reads the row ids of ../shared/THREATS.md and the test
// titles under test/threat/, prints `threat rows covered: X/Y` and lists the rows without a test. A row
// counts only when a test title (it/test, any modifier) starts with its id, e.g. it("DS-01 ...").
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const matrix = resolve(root, process.argv[2] ?? "../shared/THREATS.md")
const rows = [
  ...new Set([...readFileSync(matrix, "utf8").matchAll(/^\|\s*([A-Z]{2}-\d{2})\s*\|/gm)].map((m) => m[1]))
]

const files = readdirSync(join(root, "test", "threat"), { recursive: true })
  .filter((f) => String(f).endsWith(".test.ts"))
  .map((f) => join(root, "test", "threat", String(f)))
const titled = new Set()
for (const file of files) {
  const text = readFileSync(file, "utf8")
  for (const m of text.matchAll(/\b(?:it|test)(?:\.\w+)*\(\s*["'`]([A-Z]{2}-\d{2})\b/g)) titled.add(m[1])
}
const missing = rows.filter((r) => !titled.has(r))
console.log(`threat rows covered: ${rows.length - missing.length}/${rows.length}`)
if (missing.length > 0) console.log(`without a test: ${missing.join(", ")}`)
