import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(join(os.tmpdir(), "cordon-cache-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : []
  })

/** Files under `dir` (recursively) whose bytes contain `needle` (UTF-8). */
export const filesContaining = (dir: string, needle: string): Array<string> => {
  const bytes = Buffer.from(needle, "utf8")
  return walk(dir).filter((file) => fs.readFileSync(file).includes(bytes))
}

export const exists = (path: string): boolean => fs.existsSync(path)
