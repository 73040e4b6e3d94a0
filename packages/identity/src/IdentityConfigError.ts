/**
 * Unsafe or malformed identity configuration, refused when a layer is built (at boot), never
 * discovered at request time. Threats CS-01 (clock tolerance) and LS-03 (rotation overlap).
 *
 * @module
 */
import { Schema } from "effect"

/**
 * An identity setting is outside its safe range: clock tolerance not within 0–30 s
 * (`clock_tolerance`), maximum token TTL not a positive integer (`max_ttl`), key rotation overlap
 * shorter than the maximum token TTL (`key_overlap`), a master key that is not 32 bytes
 * (`master_key`), or a size or time bound that is not a positive integer (`bound`).
 * `code` is always `E_CONFIG`; the offending value is never included.
 */
export class IdentityConfigError extends Schema.TaggedError<IdentityConfigError>()("IdentityConfigError", {
  code: Schema.Literal("E_CONFIG").pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => "E_CONFIG" as const)
  ),
  reason: Schema.Literal("clock_tolerance", "max_ttl", "key_overlap", "master_key", "bound")
}) {}
