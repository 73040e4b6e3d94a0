/**
 * The master key that wraps every tenant's private signing keys at rest (AES-256-GCM). It comes
 * from configuration (`CORDON_MASTER_KEY`, base64url of 32 random bytes) and is held as a
 * `Redacted` value so it never reaches a log or an error.
 *
 * @module
 */
import { randomBytes } from "node:crypto"
import { Config, ConfigError, Context, Effect, Either, Layer, Redacted } from "effect"
import { IdentityConfigError } from "./IdentityConfigError.js"

/** Length of a master key, in bytes (AES-256). */
export const MASTER_KEY_BYTES = 32
/** Name of the configuration entry read by {@link MasterKey.layerConfig}. */
export const MASTER_KEY_CONFIG = "CORDON_MASTER_KEY"

/** The master-key service: 32 secret bytes. */
export interface MasterKeyShape {
  readonly key: Redacted.Redacted<Uint8Array>
}

/** 43 base64url characters; the last one carries 4 data bits and 2 zero bits (canonical form). */
const BASE64URL_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

const make = (bytes: Uint8Array): Either.Either<MasterKeyShape, IdentityConfigError> =>
  bytes instanceof Uint8Array && bytes.length === MASTER_KEY_BYTES
    ? Either.right({ key: Redacted.make(Uint8Array.from(bytes)) })
    : Either.left(new IdentityConfigError({ reason: "master_key" }))

const fromBase64url = (encoded: string): Either.Either<MasterKeyShape, IdentityConfigError> =>
  typeof encoded === "string" && BASE64URL_32.test(encoded)
    ? make(Buffer.from(encoded, "base64url"))
    : Either.left(new IdentityConfigError({ reason: "master_key" }))

const generate: Effect.Effect<MasterKeyShape> = Effect.sync(() => ({
  key: Redacted.make(new Uint8Array(randomBytes(MASTER_KEY_BYTES)))
}))

/**
 * `CORDON_MASTER_KEY` as a master key. A missing entry fails with `ConfigError.MissingData`; any
 * value that is not exactly 43 canonical base64url characters (32 bytes, no padding) fails with
 * `ConfigError.InvalidData` whose message does not contain the value.
 */
const config: Config.Config<MasterKeyShape> = Config.redacted(MASTER_KEY_CONFIG).pipe(
  Config.mapOrFail((value) =>
    Either.mapLeft(fromBase64url(Redacted.value(value)), () =>
      ConfigError.InvalidData([], "expected base64url of 32 bytes (43 characters, no padding)")
    )
  )
)

/** Context tag of the master key. */
export class MasterKey extends Context.Tag("@cordon/identity/MasterKey")<MasterKey, MasterKeyShape>() {
  /**
   * A master key from 32 bytes (copied). Any other length → `Left(IdentityConfigError(master_key))`.
   */
  static readonly make = make
  /** A master key from its base64url text (43 characters, canonical, no padding). */
  static readonly fromBase64url = fromBase64url
  /** A fresh random master key (for development and tests; persisting it is the caller's job). */
  static readonly generate = (): Effect.Effect<MasterKeyShape> => generate
  /** The configuration entry `CORDON_MASTER_KEY`, decoded (see {@link MASTER_KEY_CONFIG}). */
  static readonly config = config
  /** Reads `CORDON_MASTER_KEY` at layer build; missing or malformed → `ConfigError` at boot. */
  static readonly layerConfig: Layer.Layer<MasterKey, ConfigError.ConfigError> = Layer.effect(
    MasterKey,
    config
  )
  /** A master key from the given bytes; fails with `IdentityConfigError(master_key)` unless 32 bytes. */
  static readonly layer = (bytes: Uint8Array): Layer.Layer<MasterKey, IdentityConfigError> =>
    Layer.effect(MasterKey, make(bytes))
  /** A random master key per layer build: keys wrapped under it cannot outlive the process. */
  static readonly layerGenerated: Layer.Layer<MasterKey> = Layer.effect(MasterKey, generate)
}
