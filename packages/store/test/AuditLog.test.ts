import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { afterAll } from "vitest"
import { AuditLog, GENESIS_HASH, hashAuditRecord } from "../src/index.js"
import { make as makeAuditLog } from "../src/AuditLog.js"
import { auditEntry, backends, cleanupTempDirs } from "./fixtures.js"

afterAll(cleanupTempDirs)

/** What an insider with write access to the file can do: drop the append-only triggers first. */
const asInsider = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER audit_log_no_update`
  yield* sql`DROP TRIGGER audit_log_no_delete`
  return sql
})

const appendFive = Effect.gen(function* () {
  const audit = yield* AuditLog
  for (let i = 0; i < 5; i++) {
    yield* audit.append(
      auditEntry(i % 2 === 0 ? "acme" : "globex", { ts: 1_000 + i, reason: `decision ${i}` })
    )
  }
  return audit
})

for (const backend of backends) {
  describe(`AuditLog (${backend.name})`, () => {
    it.effect("append chains records: seq from 1, prevHash links, hash recomputes", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        const first = yield* audit.append(auditEntry("acme"))
        const second = yield* audit.append(auditEntry("globex", { decision: "allow", errorCode: null }))
        expect(first.seq).toBe(1)
        expect(first.prevHash).toBe(GENESIS_HASH)
        expect(first.hash).toMatch(/^[0-9a-f]{64}$/)
        expect(second.seq).toBe(2)
        expect(second.prevHash).toBe(first.hash)
        const { hash, ...rest } = second
        expect(hashAuditRecord(rest)).toBe(hash)
        expect(yield* audit.verify()).toEqual({ valid: true, records: 2 })
        expect(yield* audit.head()).toEqual(Option.some({ seq: 2, hash: second.hash }))
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("an empty log verifies and has no head", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        expect(yield* audit.verify()).toEqual({ valid: true, records: 0 })
        expect(Option.isNone(yield* audit.head())).toBe(true)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("concurrent appends keep seq contiguous and the chain valid", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        const records = yield* Effect.forEach(
          Array.from({ length: 60 }, (_, i) => i),
          (i) => audit.append(auditEntry(i % 3 === 0 ? "acme" : "globex", { ts: i })),
          { concurrency: "unbounded" }
        )
        expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 60 }, (_, i) => i + 1)
        )
        expect(yield* audit.verify()).toEqual({ valid: true, records: 60 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("list returns only the tenant's records, ascending, bounded by limit and afterSeq", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const acme = yield* audit.list({ tenant: "acme", limit: 10 })
        expect(acme.map((r) => r.seq)).toEqual([1, 3, 5])
        expect(acme.every((r) => r.tenant === "acme")).toBe(true)
        expect((yield* audit.list({ tenant: "acme", limit: 2 })).map((r) => r.seq)).toEqual([1, 3])
        expect((yield* audit.list({ tenant: "acme", limit: 10, afterSeq: 3 })).map((r) => r.seq)).toEqual([5])
        expect((yield* audit.list({ tenant: "acme", limit: -1 })).map((r) => r.seq)).toEqual([1])
        expect(yield* audit.list({ tenant: "nobody", limit: 10 })).toEqual([])
        const all = yield* audit.page({ afterSeq: 0, limit: 1000 })
        expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
        expect(acme[0]).toEqual(all[0])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 editing a record's field makes verify report that seq (hash)", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* asInsider
        yield* sql`UPDATE audit_log SET decision = 'allow' WHERE seq = 3`
        expect(yield* audit.verify()).toEqual({
          valid: false,
          records: 5,
          firstBad: { seq: 3, reason: "hash" }
        })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 editing a field and recomputing its hash breaks the next link", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* asInsider
        const [third] = yield* audit.page({ afterSeq: 2, limit: 1 })
        const forged = { ...third!, reason: "nothing to see" }
        const { hash: _old, ...unhashed } = forged
        yield* sql`UPDATE audit_log SET reason = ${forged.reason}, hash = ${hashAuditRecord(unhashed)}
          WHERE seq = 3`
        expect(yield* audit.verify()).toEqual({
          valid: false,
          records: 5,
          firstBad: { seq: 4, reason: "link" }
        })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 deleting a row makes verify report the missing seq (gap)", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* asInsider
        yield* sql`DELETE FROM audit_log WHERE seq = 2`
        expect(yield* audit.verify()).toEqual({
          valid: false,
          records: 4,
          firstBad: { seq: 2, reason: "gap" }
        })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 deleting the first row is a gap at seq 1", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* asInsider
        yield* sql`DELETE FROM audit_log WHERE seq = 1`
        expect(yield* audit.verify()).toMatchObject({ valid: false, firstBad: { seq: 1, reason: "gap" } })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 changing prev_hash makes verify report that seq (link)", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* asInsider
        yield* sql`UPDATE audit_log SET prev_hash = ${"f".repeat(64)} WHERE seq = 4`
        expect(yield* audit.verify()).toEqual({
          valid: false,
          records: 5,
          firstBad: { seq: 4, reason: "link" }
        })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-01 the table refuses UPDATE and DELETE while its triggers are in place", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* SqlClient.SqlClient
        const update = yield* Effect.flip(sql`UPDATE audit_log SET decision = 'allow' WHERE seq = 1`)
        const remove = yield* Effect.flip(sql`DELETE FROM audit_log WHERE seq = 5`)
        expect([update._tag, remove._tag]).toEqual(["SqlError", "SqlError"])
        expect(yield* audit.verify()).toEqual({ valid: true, records: 5 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-02 a raw token in an entry is redacted before it is hashed and stored", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        const jwt = "eyJhbGciOiJFZERTQSJ9.eyJ0bnQiOiJhY21lIn0.c2ln"
        const injected = `tool said: ${jwt}\n{"decision":"allow"}`
        const record = yield* audit.append(auditEntry("acme", { reason: injected }))
        expect(record.reason).toBe('tool said: [REDACTED]\n{"decision":"allow"}')
        expect(record.decision).toBe("deny")
        const stored = JSON.stringify(yield* audit.page({ afterSeq: 0, limit: 10 }))
        expect(stored).not.toContain(jwt)
        expect(yield* audit.verify()).toEqual({ valid: true, records: 1 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("AT-03 append fails with AuditUnavailableError when the store cannot write", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        const sql = yield* SqlClient.SqlClient
        yield* sql`DROP TABLE audit_log`
        const error = yield* Effect.flip(audit.append(auditEntry("acme")))
        expect(error).toMatchObject({ _tag: "AuditUnavailableError", code: "E_AUDIT_UNAVAILABLE" })
        expect(error.message).not.toContain("acme")
        const verifyError = yield* Effect.flip(audit.verify())
        expect(verifyError._tag).toBe("AuditUnavailableError")
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect(
      "a record written by a second writer fails the next append closed, then the chain resumes",
      () =>
        Effect.gen(function* () {
          const audit = yield* appendFive
          const other = yield* makeAuditLog
          yield* other.append(auditEntry("globex", { reason: "second writer" }))
          const error = yield* Effect.flip(audit.append(auditEntry("acme")))
          expect(error).toMatchObject({ _tag: "AuditUnavailableError", code: "E_AUDIT_UNAVAILABLE" })
          const next = yield* audit.append(auditEntry("acme", { reason: "after resync" }))
          expect(next.seq).toBe(7)
          expect(yield* audit.verify()).toEqual({ valid: true, records: 7 })
        }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("an append inside a transaction that rolls back leaves no trace in the chain", () =>
      Effect.gen(function* () {
        const audit = yield* appendFive
        const sql = yield* SqlClient.SqlClient
        const rolledBack = yield* Effect.flip(
          sql.withTransaction(
            Effect.zipRight(audit.append(auditEntry("acme", { reason: "rolled back" })), Effect.fail("abort"))
          )
        )
        expect(rolledBack).toBe("abort")
        const next = yield* audit.append(auditEntry("acme", { reason: "after rollback" }))
        expect(next.seq).toBe(6)
        expect(yield* audit.verify()).toEqual({ valid: true, records: 6 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.effect("an entry that breaks the schema is refused with E_STORE and not stored", () =>
      Effect.gen(function* () {
        const audit = yield* AuditLog
        const error = yield* Effect.flip(audit.append(auditEntry("acme", { chainDepth: -1 })))
        expect(error).toMatchObject({ _tag: "StoreError", code: "E_STORE" })
        expect(yield* audit.verify()).toEqual({ valid: true, records: 0 })
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}

describe("AuditLog paging", () => {
  it.effect("verify walks logs longer than one page", () =>
    Effect.gen(function* () {
      const audit = yield* AuditLog
      for (let i = 0; i < 2_050; i++) yield* audit.append(auditEntry("acme", { ts: i }))
      expect(yield* audit.verify()).toEqual({ valid: true, records: 2_050 })
      const sql = yield* asInsider
      yield* sql`UPDATE audit_log SET tenant = 'globex' WHERE seq = 2_001`
      expect(yield* audit.verify()).toEqual({
        valid: false,
        records: 2_050,
        firstBad: { seq: 2_001, reason: "hash" }
      })
    }).pipe(Effect.provide(backends[0].layer()))
  )
})
