/**
 * File-system steps for session cache files: private directories and files, and removal.
 *
 * @internal
 */
import * as fs from "node:fs"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import { sessionCacheFiles } from "../CachePath.js"
import { CacheError } from "../Errors.js"

const ioError = (cause: unknown) => new CacheError({ reason: "io", cause })

const assertRealDirectory = (dir: string): void => {
  const stat = fs.lstatSync(dir)
  if (!stat.isDirectory() || stat.isSymbolicLink()) throw new Error("not a plain directory")
}

/**
 * Creates `<tenant>/sessions/` (mode 0o700) for `path`, checks that neither the sessions nor the
 * tenant directory is a symbolic link, and creates the database file itself with mode 0o600 (SQLite
 * gives `-wal` and `-shm` the database file's mode). Refuses a symbolic link at `path`.
 */
export const ensurePrivateFile = (path: string): Effect.Effect<void, CacheError> =>
  Effect.try({
    try: () => {
      const sessionsDir = dirname(path)
      fs.mkdirSync(sessionsDir, { recursive: true, mode: 0o700 })
      assertRealDirectory(sessionsDir)
      assertRealDirectory(dirname(sessionsDir))
      const fd = fs.openSync(
        path,
        fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
        0o600
      )
      try {
        if (!fs.fstatSync(fd).isFile()) throw new Error("not a regular file")
      } finally {
        fs.closeSync(fd)
      }
    },
    catch: ioError
  })

/**
 * Deletes the database file, its `-wal`, `-shm` and (defensively) `-journal`. Missing files are
 * not an error, so this is idempotent; every file is attempted before the first failure is reported.
 */
export const removeSessionFiles = (path: string): Effect.Effect<void, CacheError> =>
  Effect.try({
    try: () => {
      let failure: unknown
      for (const file of [...sessionCacheFiles(path), `${path}-journal`]) {
        try {
          fs.rmSync(file, { force: true })
        } catch (cause) {
          failure ??= cause
        }
      }
      if (failure !== undefined) throw failure
    },
    catch: ioError
  })
