import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Exit, Layer, Redacted } from "effect"
import { MasterKey } from "../src/index.js"

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const readKey = (env: Record<string, string>) =>
  Effect.exit(MasterKey.pipe(Effect.provide(MasterKey.layerConfig.pipe(Layer.provide(withEnv(env))))))

describe("MasterKey", () => {
  it.effect("CORDON_MASTER_KEY: 43 canonical base64url characters decode to the 32-byte key", () =>
    Effect.gen(function* () {
      const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7)
      const exit = yield* readKey({ CORDON_MASTER_KEY: Buffer.from(bytes).toString("base64url") })
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) expect(Redacted.value(exit.value.key)).toEqual(bytes)
    })
  )

  it.effect("a missing, short, long, padded, standard-base64 or non-canonical key fails at boot", () =>
    Effect.gen(function* () {
      const secret = Buffer.alloc(32, 0xff).toString("base64url")
      const bad = [
        {},
        { CORDON_MASTER_KEY: "" },
        { CORDON_MASTER_KEY: Buffer.alloc(16, 1).toString("base64url") },
        { CORDON_MASTER_KEY: Buffer.alloc(48, 1).toString("base64url") },
        { CORDON_MASTER_KEY: `${secret}=` },
        { CORDON_MASTER_KEY: Buffer.alloc(32, 0xff).toString("base64") },
        { CORDON_MASTER_KEY: `${secret.slice(0, 42)}_` }
      ]
      for (const env of bad) {
        const exit = yield* readKey(env)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(Exit.isFailure(exit) && exit.cause)).not.toContain(secret.slice(0, 20))
      }
    })
  )

  it("make accepts exactly 32 bytes and copies them; generate yields fresh keys", () => {
    const bytes = new Uint8Array(32).fill(3)
    const made = MasterKey.make(bytes)
    expect(Either.isRight(made)).toBe(true)
    bytes.fill(9)
    if (Either.isRight(made)) expect(Redacted.value(made.right.key)[0]).toBe(3)
    expect(MasterKey.make(new Uint8Array(31))).toEqual(
      Either.left(expect.objectContaining({ code: "E_CONFIG", reason: "master_key" }))
    )
    const [a, b] = Effect.runSync(Effect.all([MasterKey.generate(), MasterKey.generate()]))
    expect(Redacted.value(a!.key)).toHaveLength(32)
    expect(Redacted.value(a!.key)).not.toEqual(Redacted.value(b!.key))
    expect(String(a!.key)).not.toContain(Buffer.from(Redacted.value(a!.key)).toString("base64url"))
  })
})
