/**
 * The synchronous core of one open session cache: which entries exist (size and expiry per key,
 * kept in memory), quota admission (session, then tenant) before every write, upserts, expiry and
 * task purges. Every method runs to completion on the owning thread, so a check and the write it
 * admits cannot interleave with another write. Methods throw `CacheError`/`QuotaExceeded`/SQLite
 * errors; the caller maps them (see `Db.writeFailure`).
 *
 * @internal
 */
import type { CacheStats, TenantQuota } from "../CacheTypes.js"
import { CacheError } from "../Errors.js"
import type { Db } from "./Db.js"
import { exceeds, type Limits, type Usage } from "./Quota.js"
import { TABLES, type Table } from "./rows.js"

interface EntryMeta {
  readonly id: number
  readonly bytes: number
  readonly expiresAt: number
}

export class Store {
  readonly usage: Usage = { entries: 0, bytes: 0 }
  readonly #db: Db
  readonly #limits: Limits
  readonly #tenant: TenantQuota | undefined
  readonly #onDelete: (table: Table, key: string) => void
  readonly #meta: Readonly<Record<Table, Map<string, EntryMeta>>> = {
    summaries: new Map(),
    embeddings: new Map(),
    documents: new Map()
  }

  constructor(
    db: Db,
    limits: Limits,
    tenant: TenantQuota | undefined,
    onDelete: (table: Table, key: string) => void
  ) {
    this.#db = db
    this.#limits = limits
    this.#tenant = tenant
    this.#onDelete = onDelete
  }

  /**
   * Reads every entry's row id, size and expiry and charges them to the tenant. Throws `CacheError`
   * `corrupt` when a table holds a key twice.
   */
  load(): void {
    for (const table of TABLES) {
      const rows = this.#db.tables[table].sizes.all() as Array<{
        id: number
        key: string
        bytes: number
        expiresAt: number
      }>
      for (const row of rows) {
        // keys are unique through this map, not a SQL index: a file holding a key twice is refused
        if (this.#meta[table].has(row.key)) throw new CacheError({ reason: "corrupt" })
        this.#meta[table].set(row.key, { id: row.id, bytes: row.bytes, expiresAt: row.expiresAt })
        this.usage.entries += 1
        this.usage.bytes += row.bytes
      }
    }
    this.#tenant?.charge(this.usage.entries, this.usage.bytes)
  }

  /** `true` when `key` is stored in `table` and not expired at `now`. */
  isLive(table: Table, key: string, now: number): boolean {
    const meta = this.#meta[table].get(key)
    return meta !== undefined && meta.expiresAt > now
  }

  /** The sealed value of a live entry, or `undefined`. */
  read(table: Table, key: string, now: number): Buffer | undefined {
    const meta = this.#meta[table].get(key)
    if (meta === undefined || meta.expiresAt <= now) return undefined
    const row = this.#db.tables[table].get.get(meta.id) as { value: Buffer } | undefined
    return row?.value
  }

  /** Keys of the live entries of `table`. */
  liveKeys(table: Table, now: number): Array<string> {
    return [...this.#meta[table]].filter(([, m]) => m.expiresAt > now).map(([key]) => key)
  }

  /**
   * Upserts a sealed value after admitting it against the session's and the tenant's limits (an
   * overwrite is charged its size difference); when refused, purges expired entries once and
   * retries. Throws `QuotaExceeded` before anything is written.
   */
  write(
    table: Table,
    key: string,
    value: Buffer,
    expiresAt: number,
    taskTag: Buffer | null,
    now: number
  ): void {
    let refused = this.#admit(table, key, value.byteLength)
    if (refused !== undefined && this.purgeExpired(now) > 0)
      refused = this.#admit(table, key, value.byteLength)
    if (refused !== undefined) throw refused
    const existing = this.#meta[table].get(key)
    const statements = this.#db.tables[table]
    let id: number
    if (existing === undefined)
      id = Number(statements.insert.run(key, value, expiresAt, taskTag).lastInsertRowid)
    else {
      statements.update.run(value, expiresAt, taskTag, existing.id)
      id = existing.id
    }
    const entries = existing === undefined ? 1 : 0
    const bytes = value.byteLength - (existing?.bytes ?? 0)
    this.#meta[table].set(key, { id, bytes: value.byteLength, expiresAt })
    this.usage.entries += entries
    this.usage.bytes += bytes
    this.#tenant?.charge(entries, bytes)
  }

  /** Deletes every entry expired at `now`, in one transaction; returns how many. */
  purgeExpired(now: number): number {
    return this.#purge((table) => this.#db.tables[table].expired.all(now) as Array<{ key: string }>)
  }

  /** Deletes every entry carrying `taskTag`, in one transaction; returns how many. */
  purgeByTask(taskTag: Buffer): number {
    return this.#purge((table) => this.#db.tables[table].byTask.all(taskTag) as Array<{ key: string }>)
  }

  /** Entries per table (expired entries not yet purged included). */
  counts(): CacheStats {
    return {
      summaries: this.#meta.summaries.size,
      embeddings: this.#meta.embeddings.size,
      documents: this.#meta.documents.size
    }
  }

  /** Refunds this session's use to the tenant and forgets the entries (on close). */
  release(): void {
    this.#tenant?.charge(-this.usage.entries, -this.usage.bytes)
    this.usage.entries = 0
    this.usage.bytes = 0
    for (const table of TABLES) this.#meta[table].clear()
  }

  #admit(table: Table, key: string, newBytes: number) {
    const existing = this.#meta[table].get(key)
    const entries = existing === undefined ? 1 : 0
    const bytes = newBytes - (existing?.bytes ?? 0)
    return exceeds(this.usage, this.#limits, entries, bytes, "session") ?? this.#tenant?.check(entries, bytes)
  }

  #purge(remove: (table: Table) => Array<{ key: string }>): number {
    const removed = this.#db.db.transaction(() => TABLES.map((table) => [table, remove(table)] as const))()
    let count = 0
    for (const [table, rows] of removed) {
      for (const { key } of rows) {
        const meta = this.#meta[table].get(key)
        if (meta === undefined) continue
        this.#meta[table].delete(key)
        this.usage.entries -= 1
        this.usage.bytes -= meta.bytes
        this.#tenant?.charge(-1, -meta.bytes)
        this.#onDelete(table, key)
        count++
      }
    }
    return count
  }
}
