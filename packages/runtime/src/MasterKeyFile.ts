/**
 * Where the master key comes from: `CORDON_MASTER_KEY` (base64url of 32 bytes) when set — malformed is a
 * boot-time `ConfigError`. Without it, a development key is generated into `<dataDir>/master.key` (mode
 * 0600) on first boot and reused after, with a loud warning: anyone who can read that file can unwrap every
 * tenant's signing keys, so production must set the variable (from a secret manager).
 */
import { MasterKey } from "@cordon/identity/MasterKey"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"

const readOrCreate = async (file: string): Promise<string> => {
  try {
    return (await fs.readFile(file, "utf8")).trim()
  } catch {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const encoded = randomBytes(32).toString("base64url")
    await fs.writeFile(file, encoded, { mode: 0o600, flag: "wx" }).catch(() => undefined)
    return (await fs.readFile(file, "utf8")).trim()
  }
}

/** The master key layer for a broker whose data lives in `dataDir`. */
export const layer = (dataDir: string) =>
  Layer.effect(
    MasterKey,
    Effect.gen(function* () {
      const configured = yield* Config.option(MasterKey.config)
      if (Option.isSome(configured)) return configured.value
      const file = path.join(dataDir, "master.key")
      yield* Effect.logWarning(
        `CORDON_MASTER_KEY is not set: using the development master key in ${file}. ` +
          "Anyone who can read that file can unwrap every tenant's signing keys. Set CORDON_MASTER_KEY in production."
      )
      const encoded = yield* Effect.promise(() => readOrCreate(file))
      const key = MasterKey.fromBase64url(encoded)
      if (Either.isLeft(key)) return yield* Effect.die(new Error(`${file} does not hold a valid master key`))
      return key.right
    })
  )
