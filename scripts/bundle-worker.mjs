// Bundles a tenant worker entry into one ES module: worker start-up is dominated by module loading
// (STACK.md: ~260 ms unbundled vs ~45 ms bundled). better-sqlite3 stays external: it is a native addon
// loaded from the package's node_modules at run time.
// Usage (from a package folder): node ../scripts/bundle-worker.mjs <entry.ts> <out.mjs>
import { build } from "esbuild"

const [entry, outfile] = process.argv.slice(2)
if (entry === undefined || outfile === undefined) {
  console.error("usage: bundle-worker.mjs <entry.ts> <out.mjs>")
  process.exit(2)
}

await build({
  entryPoints: [entry],
  outfile,
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
