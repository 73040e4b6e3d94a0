// Bundles the test team's tenant worker entry (same recipe as apps/examples).
import { build } from "esbuild"

await build({
  entryPoints: ["fixtures/worker.ts"],
  outfile: "dist/test-worker.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["better-sqlite3"],
  banner: {
    js: "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);"
  },
  logLevel: "warning"
})
