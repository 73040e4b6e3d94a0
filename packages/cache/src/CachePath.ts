/**
 * Where a session's cache file lives: `<rootDir>/tenants/<tenant>/sessions/<session>.sqlite`.
 * Identifiers are restricted so that no path can escape its tenant's directory.
 *
 * @module
 */
import { join } from "node:path"
import * as Either from "effect/Either"
import { InvalidIdentifier } from "./Errors.js"

/** Tenant and session identifiers: lower-case ASCII letters, digits and `-`, 1 to 63 characters. */
export const IDENTIFIER_PATTERN: RegExp = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * Checks one identifier against {@link IDENTIFIER_PATTERN}.
 *
 * @returns `Right(value)`, or `Left(InvalidIdentifier)` with `field` set to `kind`.
 */
export const validateIdentifier = (
  kind: "tenant" | "session",
  value: string
): Either.Either<string, InvalidIdentifier> =>
  typeof value === "string" && IDENTIFIER_PATTERN.test(value)
    ? Either.right(value)
    : Either.left(new InvalidIdentifier({ field: kind, reason: "must match ^[a-z0-9][a-z0-9-]{0,62}$" }))

/**
 * Path of one session's SQLite file: `<rootDir>/tenants/<tenant>/sessions/<session>.sqlite`.
 *
 * `tenant` and `session` must match `^[a-z0-9][a-z0-9-]{0,62}$`, so `..`, `/`, `\`, upper case and
 * NUL are rejected and the result always stays under `<rootDir>/tenants/<tenant>/sessions/`.
 *
 * @returns `Right(path)`, or `Left(InvalidIdentifier)` (code `E_INVALID_IDENTIFIER`).
 */
export const sessionCachePath = (
  rootDir: string,
  tenant: string,
  session: string
): Either.Either<string, InvalidIdentifier> =>
  Either.flatMap(validateIdentifier("tenant", tenant), (t) =>
    Either.map(validateIdentifier("session", session), (s) =>
      join(rootDir, "tenants", t, "sessions", `${s}.sqlite`)
    )
  )

/**
 * Every file SQLite may keep for a database in WAL mode: `[path, path-wal, path-shm]`. Deleting a
 * session means deleting all three (deleted rows survive in `-wal` until a checkpoint).
 */
export const sessionCacheFiles = (path: string): readonly [string, string, string] => [
  path,
  `${path}-wal`,
  `${path}-shm`
]
