/**
 * The operator credential for `/v1/admin/...`: a 256-bit random bearer secret. In development it lives in
 * `<dataDir>/operator.token` (created on first use, mode 0600); in production pass it explicitly (the
 * CLI reads `CORDON_OPERATOR_TOKEN`). Only its SHA-256 is kept in memory; comparison is constant-time.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

export interface OperatorTokenShape {
  /** Whether `presented` is the operator token (constant-time). */
  readonly verify: (presented: string) => boolean
}

export class OperatorToken extends Context.Tag("@cordon/server/OperatorToken")<
  OperatorToken,
  OperatorTokenShape
>() {}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

/** `<dataDir>/operator.token`. */
export const operatorTokenFile = (dataDir: string) => path.join(dataDir, "operator.token")

/**
 * The token: `explicit` when given (at least 32 characters), else the development file's content,
 * creating the file with a fresh random token when missing.
 */
export const loadOperatorToken = (dataDir: string, explicit?: string): Redacted.Redacted<string> => {
  if (explicit !== undefined && explicit.length > 0) {
    if (explicit.length < 32) throw new Error("E_CONFIG: the operator token must be at least 32 characters")
    return Redacted.make(explicit)
  }
  const file = operatorTokenFile(dataDir)
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true })
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" })
  }
  return Redacted.make(fs.readFileSync(file, "utf8").trim())
}

/** The service over {@link loadOperatorToken}. */
export const layer = (dataDir: string, explicit?: string): Layer.Layer<OperatorToken> =>
  Layer.sync(OperatorToken, () => {
    const expected = digest(Redacted.value(loadOperatorToken(dataDir, explicit)))
    return { verify: (presented) => timingSafeEqual(digest(presented), expected) }
  })

/** Effectful variant for CLI use. */
export const read = (dataDir: string, explicit?: string) =>
  Effect.sync(() => Redacted.value(loadOperatorToken(dataDir, explicit)))
