import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
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

/** A deterministic 32-byte data key per label (tests only; real keys come from the broker). */
export const keyFor = (label: string): Uint8Array =>
  createHash("sha256").update(`cordon-cache-test-key|${label}`).digest()

/** Runs `f` over a plain SQLite connection to `path` (to tamper with files as an attacker would). */
export const withRawDb = <A, E>(
  path: string,
  f: (sql: SqliteClient.SqliteClient) => Effect.Effect<A, E>
): Effect.Effect<A, E | SqlError> =>
  Effect.scoped(
    Effect.flatMap(
      SqliteClient.make({ filename: path }).pipe(
        Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make)
      ),
      f
    )
  )

/** The bytes of a session's database, `-wal` and `-shm` files (empty when absent). */
export const fileBytes = (path: string): ReadonlyArray<Buffer> =>
  [path, `${path}-wal`, `${path}-shm`].map((file) =>
    fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0)
  )
