import { Effect } from "effect"
import * as jose from "jose"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CallerTokens, layerDev } from "../src/CallerTokens.js"

let dir: string
const run = <A, E>(effect: Effect.Effect<A, E, CallerTokens>) =>
  Effect.runPromise(Effect.provide(effect, layerDev(dir)))

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cordon-caller-"))
})
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

describe("CallerTokens (development issuer)", () => {
  it("mints a token bound to one tenant and user, and verifies it", async () => {
    const caller = await run(
      Effect.flatMap(CallerTokens, (t) => Effect.flatMap(t.mint("acme", "alice"), t.verify))
    )
    expect(caller).toEqual({ tenant: "acme", user: "alice", roles: [] })
  })

  it("carries the optional roles claim; a role cannot be added to a minted token", async () => {
    const caller = await run(
      Effect.flatMap(CallerTokens, (t) =>
        Effect.flatMap(t.mint("acme", "alice", 600, ["approver"]), t.verify)
      )
    )
    expect(caller).toEqual({ tenant: "acme", user: "alice", roles: ["approver"] })
    const own = await run(Effect.flatMap(CallerTokens, (t) => t.mint("acme", "alice")))
    const [h, p, s] = own.split(".")
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>
    const widened = `${h}.${Buffer.from(JSON.stringify({ ...payload, roles: ["policy-admin"] })).toString("base64url")}.${s}`
    const result = await run(Effect.flatMap(CallerTokens, (t) => Effect.either(t.verify(widened))))
    expect(result._tag).toBe("Left")
  })

  it("keeps the issuer key in the data directory, owner-only", async () => {
    const stat = await fs.stat(path.join(dir, "dev-issuer.jwk"))
    expect(stat.mode & 0o077).toBe(0)
  })

  it("refuses invalid tenant ids at mint time", async () => {
    const exit = await run(Effect.flatMap(CallerTokens, (t) => Effect.either(t.mint("../acme", "alice"))))
    expect(exit._tag).toBe("Left")
  })

  it("LS-04 rejects tokens of the wrong type, audience, algorithm or key", async () => {
    const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" })
    const base = () =>
      new jose.SignJWT({ tnt: "acme" })
        .setIssuer("https://cordon.local/dev-issuer")
        .setAudience("cordon-api")
        .setSubject("mallory")
        .setExpirationTime("5m")
    const secret = new TextEncoder().encode("x".repeat(32))
    const forged = [
      await base().setProtectedHeader({ alg: "EdDSA", typ: "cordon-caller+jwt" }).sign(privateKey),
      await base().setProtectedHeader({ alg: "HS256", typ: "cordon-caller+jwt" }).sign(secret),
      "",
      "not.a.token"
    ]
    const own = await run(Effect.flatMap(CallerTokens, (t) => t.mint("acme", "alice")))
    const [h, p, s] = own.split(".")
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>
    forged.push(
      `${h}.${Buffer.from(JSON.stringify({ ...payload, tnt: "globex" })).toString("base64url")}.${s}`
    )
    for (const token of forged) {
      const result = await run(Effect.flatMap(CallerTokens, (t) => Effect.either(t.verify(token))))
      expect(result._tag, token.slice(0, 20)).toBe("Left")
      if (result._tag === "Left") expect(result.left.code).toBe("E_UNAUTHENTICATED")
    }
  })
})
