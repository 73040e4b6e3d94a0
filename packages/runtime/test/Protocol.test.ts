import { describe, expect, it } from "vitest"
import { publicJwks } from "../src/Protocol.js"

const key = {
  kty: "OKP",
  crv: "Ed25519",
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  kid: "k1",
  alg: "EdDSA",
  use: "sig"
}

describe("publicJwks", () => {
  it("passes public Ed25519 keys through", () => {
    expect(publicJwks({ keys: [key] })).toEqual({ keys: [key] })
  })

  it("LS-03 refuses to carry a private key (or any unknown field) to a worker", () => {
    expect(() => publicJwks({ keys: [{ ...key, d: "secret" }] })).toThrow()
    expect(() => publicJwks({ keys: [{ ...key, kty: "RSA" }] })).toThrow()
  })
})
