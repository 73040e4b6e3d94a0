// Bundles the tenant worker entry into one ES module (worker start-up is dominated by module loading:
// see STACK.md). better-sqlite3 stays external: it is a native addon loaded from node_modules.
import { build } from "esbuild"

await build({
  entryPoints: ["src/worker.ts"],
  outfile: "dist/worker.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["better-sqlite3"],
  banner: {
    js: "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);"
  },
  logLevel: "warning",
  legalComments: "none"
})
