/**
 * TM-01 — a legitimate tool used beyond its purpose: the file tool asked for `../../etc/passwd`, another
 * session's directory or a path through a symlink out of the jail; the fetch tool for an internal host; a
 * value off the allow-list; arguments over the size cap; a tool with no input schema. Each bad argument is
 * `E_TOOL_NOT_ALLOWED` (reason `argument`), audited once; the tool never runs and the canary outside the
 * jail stays unread.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { assertOracles, auditSeq, canary } from "../support/oracles.js"
import { A, type Gate, startGate } from "./support.js"

let gate: Gate
let session: string
const outsideCanary = canary(A)

beforeAll(async () => {
  gate = await startGate()
  session = await gate.session(A)
  const other = await gate.session(A)
  const tenantDir = path.join(gate.broker.dataDir, "tenants", A)
  const jail = path.join(tenantDir, "files", session)
  fs.mkdirSync(jail, { recursive: true })
  fs.writeFileSync(path.join(jail, "notes.txt"), "inside the jail")
  fs.writeFileSync(path.join(tenantDir, "secret.txt"), outsideCanary)
  fs.mkdirSync(path.join(tenantDir, "files", other), { recursive: true })
  fs.writeFileSync(path.join(tenantDir, "files", other, "private.txt"), outsideCanary)
  // A link out of the jail (to a directory that does not contain the jail, so scans of the data directory
  // do not loop).
  fs.mkdirSync(path.join(tenantDir, "private"), { recursive: true })
  fs.writeFileSync(path.join(tenantDir, "private", "secret.txt"), outsideCanary)
  fs.symlinkSync(path.join(tenantDir, "private"), path.join(jail, "escape"))
  otherSession = other
})
afterAll(() => gate.stop())

let otherSession = ""

const call = (tool: string, args: unknown) =>
  gate.run(A, { agent: "runner", intent: "gate.probe", session, input: { calls: [{ tool, args }] } })

const counters = () => [gate.count(A, "effects.log").length, gate.count(A, "outbound.log").length]

const bad: ReadonlyArray<readonly [string, string, () => unknown]> = [
  ["files.read", "parent traversal", () => ({ path: "../../secret.txt" })],
  ["files.read", "absolute path", () => ({ path: "/etc/passwd" })],
  ["files.read", "another session's directory", () => ({ path: `../${otherSession}/private.txt` })],
  ["files.read", "symlink out of the jail", () => ({ path: "escape/secret.txt" })],
  ["web.fetch", "loopback", () => ({ url: "http://127.0.0.1:8080/admin" })],
  ["web.fetch", "cloud metadata", () => ({ url: "http://169.254.169.254/latest/meta-data/" })],
  ["web.fetch", "decimal loopback", () => ({ url: "http://2130706433/" })],
  ["web.fetch", "IPv6 loopback", () => ({ url: "http://[::1]/" })],
  ["web.fetch", "internal name", () => ({ url: "https://vault.internal/" })],
  ["web.fetch", "host off the allow-list", () => ({ url: "https://evil.example.net/x" })],
  ["notes.save", "value off the allow-list", () => ({ format: "exe", text: "x" })],
  ["notes.save", "over the size cap", () => ({ format: "txt", text: "x".repeat(2000) })],
  ["raw.exec", "no input schema", () => ({ command: "rm -rf /" })]
]

describe("TM-01 tool arguments constrained", () => {
  it.each(
    bad
  )("TM-01 %s with %s → E_TOOL_NOT_ALLOWED(argument); the tool does not run", async (tool, _, args) => {
    const seq = auditSeq(gate.broker.dataDir)
    const before = counters()
    const res = await call(tool, args())
    expect(res.status).toBe("failed")
    expect(res.error?.code).toBe("E_TOOL_NOT_ALLOWED")
    expect(res.error?.message).toMatch(/^argument: /)
    expect(counters()).toEqual(before)
    expect(res.text).not.toContain(outsideCanary)
    const denies = gate.denies(A, seq)
    expect(denies).toHaveLength(1)
    expect(denies[0]).toMatchObject({ action: "InvokeTool", resource: `${A}/Tool/${tool}` })
    assertOracles(gate.broker.dataDir, {
      afterSeq: seq,
      denies: [{ tenant: A, code: "E_TOOL_NOT_ALLOWED" }],
      viewer: A,
      texts: { response: res.text },
      tenant: A,
      settled: true
    })
  })

  it("TM-01 arguments within the constraints run: a file in the jail, an allowed host, an allowed note", async () => {
    const read = await call("files.read", { path: "notes.txt" })
    expect(read.status).toBe("succeeded")
    expect(read.output).toEqual([{ content: "inside the jail" }])
    const fetched = await call("web.fetch", { url: "https://api.example.com/v1/rates" })
    expect(fetched.status).toBe("succeeded")
    expect(gate.count(A, "outbound.log")).toEqual(["https://api.example.com/v1/rates"])
    expect((await call("notes.save", { format: "md", text: "# hi" })).status).toBe("succeeded")
  })
})
