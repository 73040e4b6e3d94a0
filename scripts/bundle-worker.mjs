// Bundles a tenant worker entry into one file: worker start-up is dominated by module loading (STACK.md:
// ~260 ms unbundled vs ~45 ms bundled).
//
// The output is an ES module that can be started as is, and, after its first two lines, a classic-script
// body: the broker (TenantWorkerPool) recognises the marker line, compiles that body as a `vm.Script`
// and hands new tenant workers a V8 code cache of it, so a worker neither parses nor compiles the bundle
// again (see packages/runtime/src/internal/workerScript.ts). The body is esbuild's CommonJS output: it
// needs only `require` and `module`, which the first line defines in module mode and the broker's loader
// passes in.
//
// better-sqlite3 stays external (a native addon loaded from the package's node_modules at run time) and
// is loaded on first use (the first session cache opened), not when the worker starts.
// Usage (from a package folder): node ../scripts/bundle-worker.mjs <entry.ts> <out.mjs>
import { build } from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"

const [entry, outfile] = process.argv.slice(2)
if (entry === undefined || outfile === undefined) {
  console.error("usage: bundle-worker.mjs <entry.ts> <out.mjs>")
  process.exit(2)
}

/** First line: module mode defines `require` and `module` for the body. Second: the broker's marker. */
const HEADER =
  "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url); const module = { exports: {} };"
const MARKER = "//# cordon-worker-script v1"

/** `import Database from "better-sqlite3"` → a stand-in that requires the addon on first construction. */
const lazyBetterSqlite3 = {
  name: "lazy-better-sqlite3",
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
      args.namespace === "lazy-native"
        ? { path: "better-sqlite3", external: true }
        : { path: "better-sqlite3", namespace: "lazy-native" }
    )
    b.onLoad({ filter: /.*/, namespace: "lazy-native" }, () => ({
      loader: "js",
      contents: [
        "let addon;",
        'const load = () => (addon ??= require("better-sqlite3"));',
        "export default new Proxy(function Database() {}, {",
        "  construct: (_target, args) => Reflect.construct(load(), args),",
        "  apply: (_target, self, args) => Reflect.apply(load(), self, args),",
        "  get: (_target, key) => Reflect.get(load(), key)",
        "});"
      ].join("\n")
    }))
  }
}

const result = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  platform: "node",
  target: "node20",
  format: "cjs",
  plugins: [lazyBetterSqlite3],
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  legalComments: "none"
})
const [output] = result.outputFiles
if (output === undefined) throw new Error("esbuild produced no output")
fs.mkdirSync(path.dirname(outfile), { recursive: true })
fs.writeFileSync(outfile, `${HEADER}\n${MARKER}\n${output.text}`)
