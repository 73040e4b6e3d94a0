import * as Tool from "@cordon/sdk/Tool"
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hostAllowed, isInternalHost, urlError, valuesAt } from "../src/internal/argumentConstraints.js"
import {
  auditableRecord,
  foreignRecord,
  hasInputSchema,
  identityAssertion,
  isIdentityKey,
  scopeShortfall,
  screenCall
} from "../src/internal/toolGuards.js"

const ok = () => Effect.succeed({ ok: true })
const Out = Schema.Struct({ ok: Schema.Boolean })

const fileRead = Tool.make({
  name: "file.read",
  description: "read",
  input: Schema.Struct({ path: Schema.String }),
  output: Out,
  scopes: ["files:read"],
  constraints: { paths: ["path"] },
  handler: ok
})
const fetchUrl = Tool.make({
  name: "web.fetch",
  description: "fetch",
  input: Schema.Struct({ url: Schema.String, mode: Schema.optional(Schema.String) }),
  output: Out,
  scopes: ["web:fetch"],
  constraints: {
    urls: { fields: ["url"], hosts: ["api.example.com", "*.docs.example.com"] },
    values: { mode: ["get", "head"] },
    maxBytes: 256
  },
  handler: ok
})
const greet = Tool.make({
  name: "user.greet",
  description: "greet",
  input: Schema.Struct({ user: Schema.String, text: Schema.String }),
  output: Out,
  scopes: ["greet:use"],
  identityFields: ["user"],
  handler: ok
})
const raw = Tool.make({
  name: "raw.exec",
  description: "anything",
  input: Schema.Unknown,
  output: Out,
  scopes: ["raw:use"],
  handler: ok
})

let root: string
let sessionDir: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "guards-"))
  sessionDir = path.join(root, "files", "s1")
  fs.mkdirSync(path.join(sessionDir, "docs"), { recursive: true })
  fs.writeFileSync(path.join(root, "secret.txt"), "CANARY")
  fs.symlinkSync(root, path.join(sessionDir, "escape"))
  fs.symlinkSync(path.join(sessionDir, "docs"), path.join(sessionDir, "inside"))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const screen = (tool: Tool.AnyTool, args: unknown) =>
  screenCall(tool, JSON.stringify(args), "acme", sessionDir)
const codeOf = (r: ReturnType<typeof screen>) => (Either.isLeft(r) ? `${r.left.code}:${r.left.reason}` : "ok")

describe("identity-bearing arguments (IP-02)", () => {
  it("IP-02 finds identity keys at any depth, case- and separator-insensitively", () => {
    for (const key of [
      "tenant",
      "tenantId",
      "TENANT_ID",
      "tenant-id",
      "userId",
      "role",
      "sessionId",
      "sub",
      "tnt"
    ]) {
      expect(isIdentityKey(key), key).toBe(true)
    }
    for (const key of ["targetTenant", "assume_role", "x-tenant"]) expect(isIdentityKey(key), key).toBe(true)
    for (const key of ["subject", "query", "mailbox", "body", "limit", "path"])
      expect(isIdentityKey(key), key).toBe(false)
    const found = identityAssertion({ q: "x", filter: [{ ok: 1 }, { Tenant: "tenant-b" }] }, [], "acme")
    expect(found?.field).toBe("args.filter[].Tenant")
    expect(found?.detail).toContain("tenant acme")
    expect(found?.detail).not.toContain("tenant-b")
    expect(found?.detail).toMatch(/sha256:[0-9a-f]{12}/)
  })

  it("IP-02 refuses before anything else, unless the tool declared the field", () => {
    expect(codeOf(screen(fileRead, { path: "a.txt", tenant: "tenant-b" }))).toBe(
      "E_IDENTITY_ASSERTION:identity_field"
    )
    expect(codeOf(screen(greet, { user: "bob", text: "hi" }))).toBe("ok")
    expect(codeOf(screen(greet, { user: "bob", text: "hi", role: "admin" }))).toBe(
      "E_IDENTITY_ASSERTION:identity_field"
    )
  })
})

describe("argument constraints (TM-01)", () => {
  it("TM-01 jails paths to the session directory, lexically and through symlinks", () => {
    for (const p of ["notes.txt", "docs/a.txt", "./docs/new/b.txt", "inside/x.txt"]) {
      expect(codeOf(screen(fileRead, { path: p })), p).toBe("ok")
    }
    for (const p of [
      "../../secret.txt",
      "/etc/passwd",
      "docs/../../s2/x",
      "..\\x",
      "C:/x",
      "escape/secret.txt",
      ""
    ]) {
      expect(codeOf(screen(fileRead, { path: p })), p).toBe("E_TOOL_NOT_ALLOWED:argument")
    }
  })

  it("TM-01 allows listed hosts only and refuses internal addresses whatever the list says", () => {
    expect(urlError("https://api.example.com/v1", ["api.example.com"])).toBeUndefined()
    expect(hostAllowed("a.docs.example.com", ["*.docs.example.com"])).toBe(true)
    expect(hostAllowed("docs.example.com", ["*.docs.example.com"])).toBe(false)
    expect(hostAllowed("evil-api.example.com", ["api.example.com"])).toBe(false)
    for (const host of [
      "127.0.0.1",
      "10.1.2.3",
      "169.254.169.254",
      "[::1]",
      "[::ffff:7f00:1]",
      "[fd00::1]",
      "localhost",
      "metadata",
      "x.internal"
    ]) {
      expect(isInternalHost(host), host).toBe(true)
    }
    expect(isInternalHost("api.example.com")).toBe(false)
    for (const url of [
      "http://127.0.0.1/",
      "http://2130706433/",
      "http://0x7f.1/",
      "http://[::1]/",
      "https://user:pw@api.example.com/",
      "file:///etc/passwd",
      "https://evil.example.net/"
    ]) {
      expect(codeOf(screen(fetchUrl, { url })), url).toBe("E_TOOL_NOT_ALLOWED:argument")
    }
    expect(codeOf(screen(fetchUrl, { url: "https://x.docs.example.com/a", mode: "get" }))).toBe("ok")
  })

  it("TM-01 enforces value allow-lists, the size cap and a declared input schema", () => {
    expect(codeOf(screen(fetchUrl, { url: "https://api.example.com/", mode: "post" }))).toBe(
      "E_TOOL_NOT_ALLOWED:argument"
    )
    expect(codeOf(screen(fetchUrl, { url: `https://api.example.com/${"a".repeat(300)}` }))).toBe(
      "E_TOOL_NOT_ALLOWED:argument"
    )
    expect(hasInputSchema(raw)).toBe(false)
    expect(hasInputSchema(fileRead)).toBe(true)
    expect(codeOf(screen(raw, { anything: 1 }))).toBe("E_TOOL_NOT_ALLOWED:argument")
    expect(codeOf(screen(fileRead, { path: 3 }))).toBe("E_TOOL_NOT_ALLOWED:argument")
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`
    const refused = screenCall(fileRead, deep, "acme", sessionDir)
    expect(Either.isLeft(refused) && refused.left.code).toBe("E_TOOL_NOT_ALLOWED")
  })

  it("walks arrays and nested fields", () => {
    expect(valuesAt({ a: [{ b: 1 }, { b: [2, 3] }, { c: 4 }] }, "a.b")).toEqual([1, 2, 3])
  })

  it("binds the canonical arguments: key order does not matter, values do", () => {
    const a = Either.getOrThrow(screen(fileRead, { path: "a.txt" }))
    const b = Either.getOrThrow(screenCall(fileRead, '{"path":"a.txt"}', "acme", sessionDir))
    const c = Either.getOrThrow(screen(fileRead, { path: "b.txt" }))
    expect(a.binding).toBe(b.binding)
    expect(a.binding).not.toBe(c.binding)
  })
})

describe("scopes and result records", () => {
  it("DS-04 a scope the agent could hold but the chain did not delegate is a scope escalation naming the actors", () => {
    const actors = ["spiffe://td/tenant/acme/agent/support", "spiffe://td/tenant/acme/agent/finance"]
    const standing: Record<string, ReadonlyArray<string>> = {
      support: ["tickets:read"],
      finance: ["files:read", "tickets:read"]
    }
    const standingOf = (a: string) => standing[a] ?? []
    // The token carries the scope (the root was over-granted), but the support agent may never hold it.
    const short = scopeShortfall(fileRead, ["files:read", "tickets:read"], actors, standingOf)
    expect(short?.code).toBe("E_SCOPE_ESCALATION")
    expect(short?.detail).toContain("support → finance")
    expect(scopeShortfall(fileRead, ["tickets:read"], actors, standingOf)?.code).toBe("E_SCOPE_ESCALATION")
    expect(scopeShortfall(fileRead, ["tickets:read"], actors.slice(0, 1), standingOf)?.code).toBe(
      "E_TOOL_NOT_ALLOWED"
    )
    expect(scopeShortfall(fileRead, ["files:read"], actors.slice(1), standingOf)).toBeUndefined()
  })

  it("IP-01 finds a foreign record in a result and keeps audit references free of content", () => {
    const docs = Tool.make({
      name: "docs.get",
      description: "get",
      input: Schema.Struct({ id: Schema.String }),
      output: Schema.Struct({ tenant: Schema.String, id: Schema.String }),
      scopes: ["docs:read"],
      resultRecords: (out) => [{ type: "Doc", tenant: out.tenant, id: out.id }],
      handler: () => Effect.succeed({ tenant: "acme", id: "d1" })
    })
    expect(foreignRecord(docs, { tenant: "acme", id: "d1" }, "acme")).toBeUndefined()
    expect(foreignRecord(docs, { tenant: "tenant-b", id: "B-123" }, "acme")).toEqual({
      type: "Doc",
      tenant: "tenant-b",
      id: "B-123"
    })
    expect(auditableRecord({ type: "Doc", tenant: "Not A Tenant", id: "CANARY-x y" })).toEqual({
      type: "Doc",
      tenant: expect.stringMatching(/^sha256:/),
      id: expect.stringMatching(/^sha256:/)
    })
  })
})
