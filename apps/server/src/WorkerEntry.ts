import { createRequire } from "node:module"
import * as fs from "node:fs"

/** Absolute path of the mail team's bundled worker entry; fails loudly when it has not been built. */
export const workerEntry = (): string => {
  const file = createRequire(import.meta.url).resolve("@cordon/examples/worker")
  if (!fs.existsSync(file)) throw new Error(`worker bundle missing at ${file}: run \`pnpm build\` first`)
  return file
}
