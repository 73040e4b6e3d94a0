import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { AuditEntry } from "../src/index.js"
import { ControlPlane } from "../src/index.js"

const dirs: Array<string> = []

/** A fresh database file path in its own temp directory. */
export const tempDbFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-store-"))
  dirs.push(dir)
  return join(dir, "control-plane.db")
}

/** Removes every temp directory made by `tempDbFile`. */
export const cleanupTempDirs = (): void => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Both backends every service test runs against. */
export const backends = [
  { name: "memory", layer: () => ControlPlane.layerWithServices({ filename: ":memory:" }) },
  { name: "file", layer: () => ControlPlane.layerWithServices({ filename: tempDbFile() }) }
] as const

/** A well-formed audit entry for `tenant`, overridable field by field. */
export const auditEntry = (tenant: string, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  ts: 1_700_000_000_000,
  tenant,
  session: `${tenant}-s1`,
  workload: `spiffe://cordon.test/tenant/${tenant}/agent/triage`,
  intent: "triage-inbox",
  actorChainHash: "a".repeat(64),
  chainDepth: 1,
  action: "InvokeTool",
  resource: `${tenant}/Tool/outbox.draft`,
  decision: "deny",
  errorCode: "E_POLICY_DENY",
  reason: "forbid: outbox requires approval",
  policyVersion: "v1",
  jtiHash: "b".repeat(64),
  ...overrides
})
