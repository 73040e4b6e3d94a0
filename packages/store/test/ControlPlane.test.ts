import { existsSync, statSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { SqliteMigrator } from "@effect/sql-sqlite-node"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Option } from "effect"
import { afterAll } from "vitest"
import { ControlPlane, migrations, Tenants } from "../src/index.js"
import { cleanupTempDirs, tempDbFile } from "./fixtures.js"

afterAll(cleanupTempDirs)

const tables = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
  return rows.map((r) => r.name)
})

const appliedMigrations = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ migration_id: number }>`SELECT migration_id FROM effect_sql_migrations`
})

describe("ControlPlane", () => {
  it.effect("creates every table in a file database with WAL and a 5 s busy timeout", () =>
    Effect.gen(function* () {
      const filename = tempDbFile()
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        expect(yield* tables).toEqual(
          expect.arrayContaining(["audit_log", "credentials", "sessions", "tasks", "tenants", "trace_events"])
        )
        const [journal] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
        expect(journal?.journal_mode).toBe("wal")
        const [busy] = yield* sql<{ timeout: number }>`PRAGMA busy_timeout`
        expect(busy?.timeout).toBe(ControlPlane.BUSY_TIMEOUT_MS)
      }).pipe(Effect.provide(ControlPlane.layer({ filename })))
      expect(existsSync(filename)).toBe(true)
    })
  )

  it.effect("the database file and its WAL files are readable by their owner only (0600)", () =>
    Effect.gen(function* () {
      const filename = tempDbFile()
      yield* Effect.flatMap(Tenants, (t) => t.upsert({ id: "acme", name: "Acme" })).pipe(
        Effect.provide(ControlPlane.layerWithServices({ filename }))
      )
      for (const file of [filename, `${filename}-wal`, `${filename}-shm`].filter((f) => existsSync(f))) {
        expect(statSync(file).mode & 0o777).toBe(0o600)
      }
      expect(statSync(filename).mode & 0o777).toBe(0o600)
    })
  )

  it.effect("migrations are idempotent on reopen and data survives", () =>
    Effect.gen(function* () {
      const filename = tempDbFile()
      const open = ControlPlane.layerWithServices({ filename })
      yield* Effect.gen(function* () {
        const tenants = yield* Tenants
        yield* tenants.upsert({ id: "acme", name: "Acme" })
        expect(yield* appliedMigrations).toHaveLength(Object.keys(migrations).length)
      }).pipe(Effect.provide(open))
      yield* Effect.gen(function* () {
        const tenants = yield* Tenants
        expect(yield* appliedMigrations).toHaveLength(Object.keys(migrations).length)
        const acme = yield* tenants.get("acme")
        expect(Option.map(acme, (t) => t.name)).toEqual(Option.some("Acme"))
      }).pipe(Effect.provide(open))
    })
  )

  it.effect("running the migrator again on a migrated database applies nothing", () =>
    Effect.gen(function* () {
      const again = yield* SqliteMigrator.run({ loader: SqliteMigrator.fromRecord(migrations) }).pipe(
        Effect.provide(NodeContext.layer)
      )
      expect(again).toEqual([])
      expect(yield* appliedMigrations).toHaveLength(Object.keys(migrations).length)
    }).pipe(Effect.provide(ControlPlane.layerMemory))
  )

  it.effect("an in-memory database is private to its layer", () =>
    Effect.gen(function* () {
      yield* Effect.gen(function* () {
        const tenants = yield* Tenants
        yield* tenants.upsert({ id: "acme", name: "Acme" })
      }).pipe(Effect.provide(ControlPlane.layerWithServices({ filename: ":memory:" })))
      const found = yield* Effect.gen(function* () {
        const tenants = yield* Tenants
        return yield* tenants.get("acme")
      }).pipe(Effect.provide(ControlPlane.layerWithServices({ filename: ":memory:" })))
      expect(Option.isNone(found)).toBe(true)
    })
  )
})
