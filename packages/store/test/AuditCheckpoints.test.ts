import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Layer, Option, Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll } from "vitest"
import {
  AuditCheckpoints,
  AuditLog,
  appendCheckpoint,
  assertIntegrity,
  checkpointKey,
  ControlPlane,
  readCheckpoints,
  verifyIntegrity
} from "../src/index.js"
import { make as makeAuditLog } from "../src/AuditLog.js"
import { auditEntry, cleanupTempDirs, tempDbFile } from "./fixtures.js"

afterAll(cleanupTempDirs)

const key = checkpointKey(new Uint8Array(32).fill(7))

/** A file-backed log whose appends checkpoint every `every` records into a file beside the database. */
const setup = (every = 3) => {
  const db = tempDbFile()
  const file = path.join(path.dirname(db), "audit", "checkpoints.jsonl")
  const layer = AuditCheckpoints.layer({ file, key, every }).pipe(
    Layer.provide(AuditLog.layer),
    Layer.provideMerge(ControlPlane.layer({ filename: db }))
  )
  return { db, file, layer }
}

const appendN = (n: number, reason = "decision") =>
  Effect.flatMap(AuditLog, (log) =>
    Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        log.append(auditEntry(i % 2 === 0 ? "acme" : "globex", { ts: 1_000 + i, reason: `${reason} ${i}` }))
    )
  )

/** What an insider with write access to the database file can do: drop the append-only triggers. */
const asInsider = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER IF EXISTS audit_log_no_update`
  yield* sql`DROP TRIGGER IF EXISTS audit_log_no_delete`
  return sql
})

const verifyFile = (file: string) => Effect.flatMap(readCheckpoints(file), (f) => verifyIntegrity(f, key))

describe("checkpointKey", () => {
  it("signs checkpoints that verify, and refuses a changed field, another key or a garbled signature", () => {
    const c = key.sign({ seq: 5, hash: "a".repeat(64), ts: 1 })
    expect(key.verify(c)).toBe(true)
    expect(checkpointKey(new Uint8Array(32).fill(7)).kid).toBe(key.kid)
    expect(key.verify({ ...c, seq: 6 })).toBe(false)
    expect(key.verify({ ...c, hash: "b".repeat(64) })).toBe(false)
    expect(key.verify({ ...c, sig: `${c.sig.slice(0, -2)}AA` })).toBe(false)
    expect(key.verify({ ...c, sig: "not base64" })).toBe(false)
    const other = checkpointKey(randomBytes(32))
    expect(other.verify(c)).toBe(false)
    expect(other.verify({ ...other.sign({ seq: 5, hash: "a".repeat(64), ts: 1 }), kid: key.kid })).toBe(false)
    expect(() => checkpointKey(new Uint8Array(16))).toThrow(TypeError)
  })
})

describe("AuditCheckpoints", () => {
  it.effect("writes a signed checkpoint every N records and one at shutdown", () =>
    Effect.gen(function* () {
      const { file, layer } = setup(3)
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layer, scope)
      yield* appendN(7).pipe(Effect.provide(context))
      const during = yield* readCheckpoints(file)
      expect(during.checkpoints.map((c) => c.seq)).toEqual([3, 6])
      yield* Scope.close(scope, Exit.void)
      const after = yield* readCheckpoints(file)
      expect(after.checkpoints.map((c) => c.seq)).toEqual([3, 6, 7])
      expect(after.checkpoints.every(key.verify)).toBe(true)
      expect(after.malformedLines).toEqual([])
      // The file lives apart from the database, owner-only.
      expect(fs.statSync(file).mode & 0o077).toBe(0)
    })
  )

  it.effect("a checkpoint that cannot be written fails the append closed with E_AUDIT_UNAVAILABLE", () =>
    Effect.gen(function* () {
      const db = tempDbFile()
      const blocker = path.join(path.dirname(db), "not-a-dir")
      fs.writeFileSync(blocker, "")
      const layer = AuditCheckpoints.layer({ file: path.join(blocker, "cp.jsonl"), key, every: 1 }).pipe(
        Layer.provide(AuditLog.layer),
        Layer.provideMerge(ControlPlane.layer({ filename: db }))
      )
      const error = yield* appendN(1).pipe(Effect.flip, Effect.provide(layer))
      expect(error._tag).toBe("AuditUnavailableError")
      expect(error.code).toBe("E_AUDIT_UNAVAILABLE")
    })
  )
})

describe("verifyIntegrity", () => {
  it.effect(
    "an intact log with its checkpoints is valid; records after the last checkpoint are unanchored",
    () =>
      Effect.gen(function* () {
        const { file, layer } = setup(4)
        const report = yield* Effect.gen(function* () {
          yield* appendN(10)
          return yield* verifyFile(file)
        }).pipe(Effect.provide(layer))
        expect(report).toEqual({
          valid: true,
          records: 10,
          lastSeq: 10,
          checkpoints: { count: 2, verified: 2, latestSeq: 8, unanchored: 2 }
        })
      })
  )

  it.effect("AT-01 an edited record k → AuditChainError(hash) at k", () =>
    Effect.gen(function* () {
      const { file, layer } = setup(4)
      const error = yield* Effect.gen(function* () {
        yield* appendN(9)
        const sql = yield* asInsider
        yield* sql`UPDATE audit_log SET decision = 'allow', error_code = NULL WHERE seq = 5`
        return yield* Effect.flip(Effect.flatMap(readCheckpoints(file), (f) => assertIntegrity(f, key)))
      }).pipe(Effect.provide(layer))
      expect(error).toMatchObject({ _tag: "AuditChainError", code: "E_AUDIT_CHAIN", reason: "hash", seq: 5 })
    })
  )

  it.effect("AT-01 a deleted record → gap at its seq", () =>
    Effect.gen(function* () {
      const { file, layer } = setup(4)
      const report = yield* Effect.gen(function* () {
        yield* appendN(9)
        const sql = yield* asInsider
        yield* sql`DELETE FROM audit_log WHERE seq = 6`
        return yield* verifyFile(file)
      }).pipe(Effect.provide(layer))
      expect(report.valid).toBe(false)
      expect(report.firstBad).toEqual({ seq: 6, reason: "gap" })
    })
  )

  it.effect(
    "AT-01 a truncated tail → truncated at the first missing seq (the chain alone still verifies)",
    () =>
      Effect.gen(function* () {
        const { file, layer } = setup(4)
        const [chain, report] = yield* Effect.gen(function* () {
          yield* appendN(9)
          const sql = yield* asInsider
          yield* sql`DELETE FROM audit_log WHERE seq > 6`
          const chain = yield* Effect.flatMap(AuditLog, (log) => log.verify())
          return [chain, yield* verifyFile(file)] as const
        }).pipe(Effect.provide(layer))
        expect(chain).toEqual({ valid: true, records: 6 })
        expect(report.firstBad).toEqual({ seq: 7, reason: "truncated" })
      })
  )

  it.effect("AT-01 a rewritten, self-consistent history → checkpoint_mismatch at the checkpoint", () =>
    Effect.gen(function* () {
      const { file, layer } = setup(4)
      const report = yield* Effect.gen(function* () {
        yield* appendN(8)
        const sql = yield* asInsider
        // Truncate to 2 and re-append six forged records with a fresh, valid chain (a second writer
        // over the same file, which starts from the truncated head).
        yield* sql`DELETE FROM audit_log WHERE seq > 2`
        const log = yield* makeAuditLog
        for (let i = 0; i < 6; i++)
          yield* log.append(auditEntry("acme", { decision: "allow", errorCode: null }))
        return yield* verifyFile(file)
      }).pipe(Effect.provide(layer))
      expect(report.firstBad).toEqual({ seq: 4, reason: "checkpoint_mismatch" })
    })
  )

  it.effect("AT-01 a forged or damaged checkpoint line → checkpoint_invalid", () =>
    Effect.gen(function* () {
      const { file, layer } = setup(4)
      const report = yield* Effect.gen(function* () {
        yield* appendN(4)
        const forged = checkpointKey(randomBytes(32)).sign({ seq: 2, hash: "c".repeat(64), ts: 5 })
        yield* appendCheckpoint(file, { ...forged, kid: key.kid })
        fs.appendFileSync(file, "{not json\n")
        return yield* verifyFile(file)
      }).pipe(Effect.provide(layer))
      expect(report.firstBad).toEqual({ seq: 0, reason: "checkpoint_invalid" })
      expect(report.checkpoints).toMatchObject({ count: 3, verified: 1 })
    })
  )
})

describe("AT-02 records are structured", () => {
  it.effect(
    "AT-02 agent text carrying a forged JSON record is stored verbatim in one record and escaped on export",
    () =>
      Effect.gen(function* () {
        const { file, layer } = setup(100)
        const injected = 'x"}\n{"decision":"allow","tenant":"globex","seq":99}\r\n'
        const [records, report] = yield* Effect.gen(function* () {
          const log = yield* AuditLog
          yield* log.append(auditEntry("acme", { reason: injected, resource: `acme/Tool/${injected}` }))
          return [yield* log.page({ afterSeq: 0, limit: 10 }), yield* verifyFile(file)] as const
        }).pipe(Effect.provide(layer))
        expect(records).toHaveLength(1)
        expect(records[0]).toMatchObject({
          decision: "deny",
          reason: injected,
          resource: `acme/Tool/${injected}`
        })
        const line = JSON.stringify(records[0])
        expect(line).not.toMatch(/[\n\r]/)
        expect(line).toContain('\\n{\\"decision\\":\\"allow\\"')
        expect(JSON.parse(line)).toEqual(records[0])
        expect(report.valid).toBe(true)
        expect(Option.isNone(Option.fromNullable(report.firstBad))).toBe(true)
      })
  )
})
