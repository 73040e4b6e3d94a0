import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import {
  type AuditRecord,
  canonicalJson,
  chainFields,
  GENESIS_HASH,
  hashAuditRecord,
  verifyAuditRecords
} from "../src/index.js"
import { auditEntry } from "./fixtures.js"

/** Builds a valid exported chain of `n` records. */
const chain = (n: number): Array<AuditRecord> => {
  const out: Array<AuditRecord> = []
  for (let i = 0; i < n; i++) {
    const unhashed = {
      seq: i + 1,
      ...auditEntry("acme", { ts: i }),
      prevHash: out[i - 1]?.hash ?? GENESIS_HASH
    }
    out.push({ ...unhashed, hash: hashAuditRecord(unhashed) })
  }
  return out
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: "é" }], c: true } })).toBe(
      '{"a":{"c":true,"d":[3,{"y":"é","z":null}]},"b":1}'
    )
  })

  it("sorts by UTF-16 code units, not locale", () => {
    expect(canonicalJson({ b: 0, B: 0, a: 0, "\u00e9": 0 })).toBe('{"B":0,"a":0,"b":0,"é":0}')
  })
})

describe("hashAuditRecord", () => {
  it("is sha256 hex over the canonical snake_case columns without hash", () => {
    const [record] = chain(1)
    const { hash, ...rest } = record!
    const expected = createHash("sha256")
      .update(canonicalJson(chainFields(rest)))
      .digest("hex")
    expect(hash).toBe(expected)
    expect(Object.keys(chainFields(rest))).toContain("actor_chain_hash")
    expect(Object.keys(chainFields(rest))).not.toContain("hash")
  })

  it("changes when any single field changes", () => {
    const [record] = chain(1)
    const { hash, ...rest } = record!
    expect(hashAuditRecord({ ...rest, chainDepth: 2 })).not.toBe(hash)
    expect(hashAuditRecord({ ...rest, errorCode: null })).not.toBe(hash)
    expect(hashAuditRecord({ ...rest, session: null })).not.toBe(hash)
  })
})

describe("verifyAuditRecords", () => {
  it("accepts a valid exported chain and an empty one", () => {
    expect(verifyAuditRecords(chain(4))).toEqual({ valid: true, records: 4 })
    expect(verifyAuditRecords([])).toEqual({ valid: true, records: 0 })
  })

  it("AT-01 reports an edited field as hash at its seq", () => {
    const records = chain(4)
    records[2] = { ...records[2]!, resource: "globex/Tool/payments.send" }
    expect(verifyAuditRecords(records)).toEqual({
      valid: false,
      records: 4,
      firstBad: { seq: 3, reason: "hash" }
    })
  })

  it("AT-01 reports a removed record as a gap at the missing seq", () => {
    const records = chain(4)
    records.splice(1, 1)
    expect(verifyAuditRecords(records)).toEqual({
      valid: false,
      records: 3,
      firstBad: { seq: 2, reason: "gap" }
    })
  })

  it("AT-01 reports a rewritten prevHash as link at its seq", () => {
    const records = chain(4)
    const { hash: _h, ...rest } = { ...records[1]!, prevHash: "0".repeat(64) }
    records[1] = { ...rest, hash: hashAuditRecord(rest) }
    expect(verifyAuditRecords(records)).toEqual({
      valid: false,
      records: 4,
      firstBad: { seq: 2, reason: "link" }
    })
  })

  it("AT-01 reports reordered records as a gap", () => {
    const records = chain(3)
    const swapped = [records[0]!, records[2]!, records[1]!]
    expect(verifyAuditRecords(swapped)).toMatchObject({ valid: false, firstBad: { seq: 2, reason: "gap" } })
  })
})
