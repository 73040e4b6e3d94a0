/**
 * Bundles a test-only tenant worker entry (a module calling `runTenantWorker(team)`) with the project's
 * worker bundler, into `test/dist/`, so `better-sqlite3` still resolves from the test package at run time.
 *
 *   const workerEntry = bundleWorker(new URL("./worker.ts", import.meta.url), "audit-worker.mjs")
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const testDir = path.resolve(import.meta.dirname, "../..")

/** Bundles `entry` to `test/dist/<outName>` (about a second) and returns the bundle's absolute path. */
export const bundleWorker = (entry: URL | string, outName: string): string => {
  const source = entry instanceof URL ? fileURLToPath(entry) : path.resolve(entry)
  const out = path.join(testDir, "dist", outName)
  execFileSync(process.execPath, [path.join(testDir, "..", "scripts", "bundle-worker.mjs"), source, out], {
    cwd: testDir,
    stdio: "pipe"
  })
  return out
}
