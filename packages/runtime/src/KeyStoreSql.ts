/**
 * The identity key ring's `KeyStore` over the control-plane database (`signing_keys`). Records cross as
 * plain data; the private keys in them are already wrapped under the master key.
 */
import { KeyStore, KeyStoreError } from "@cordon/identity/KeyStore"
import { SigningKeys } from "@cordon/store/SigningKeys"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const unavailable = () => new KeyStoreError({ reason: "unavailable" })

export const layer: Layer.Layer<KeyStore, never, SigningKeys> = Layer.effect(
  KeyStore,
  Effect.map(SigningKeys, (rows) =>
    KeyStore.of({
      load: (tenant) => rows.load(tenant).pipe(Effect.mapError(unavailable)),
      save: (record) =>
        rows
          .save(record)
          .pipe(
            Effect.mapError((e) =>
              String(e.cause).includes("UNIQUE") ? new KeyStoreError({ reason: "conflict" }) : unavailable()
            )
          ),
      update: (record) => rows.update(record).pipe(Effect.mapError(unavailable))
    })
  )
)
