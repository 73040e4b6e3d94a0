/**
 * Session-cache benchmarks, each against a baseline measured in the same run:
 * - `cache.put` (a sealed summary write through the session cache: secret scan, content hash,
 *   AES-256-GCM seal, quota check, upsert in WAL mode with `secure_delete`) vs `cache.baseline.put`
 *   (a plain better-sqlite3 insert of the same 1,000 text bytes, unencrypted, WAL mode);
 * - `cache.search.10k` (top-10 over 10,000 sealed 384-dimension vectors, index in memory, expiry
 *   checked) vs `cache.baseline.search.10k` (a bare brute-force scan of the same normalised vectors
 *   in one Float32Array with the same query and the same k); both take a precomputed query;
 * - `cache.open` (opening a session cache of 10,000 entries until its index is ready).
 */
import { openSessionCache, type SessionCache } from "@cordon/cache/SessionCache"
import Database from "better-sqlite3"
import { Effect, Exit, Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { bench } from "./Bench.js"

const DIM = 384
const N = 10_000
const TEXT =
  `${"Meeting notes: the quarterly review moved to Thursday; please confirm attendance. ".repeat(12)}`.slice(
    0,
    1000
  )

const randomVector = (seed: number) => {
  const v = new Float32Array(DIM)
  let x = seed * 2654435761
  let norm = 0
  for (let i = 0; i < DIM; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    v[i] = (x / 2 ** 32) * 2 - 1
    norm += v[i]! * v[i]!
  }
  const inv = 1 / Math.sqrt(norm)
  for (let i = 0; i < DIM; i++) v[i]! *= inv
  return v
}

interface CacheState {
  readonly dir: string
  readonly scope: Scope.CloseableScope
  readonly cache: SessionCache
  readonly dataKey: Uint8Array
  n: number
}

const openIn = async (dir: string, dataKey: Uint8Array, maxEntries = 100_000): Promise<CacheState> => {
  const scope = Effect.runSync(Scope.make())
  const cache = await Effect.runPromise(
    Scope.extend(
      openSessionCache({
        rootDir: dir,
        tenant: "acme",
        session: "bench",
        dimension: DIM,
        dataKey,
        maxEntries,
        maxBytes: 1024 ** 3
      }),
      scope
    )
  )
  return { dir, scope, cache, dataKey, n: 0 }
}

const close = async (s: CacheState) => {
  await Effect.runPromise(Scope.close(s.scope, Exit.void))
  await fs.rm(s.dir, { recursive: true, force: true })
}

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), "cordon-bench-cache-"))

/** A cache holding N sealed vectors (built once per benchmark that needs it). */
const filled = async () => {
  const s = await openIn(await tempDir(), new Uint8Array(randomBytes(32)))
  for (let i = 0; i < N; i++) await Effect.runPromise(s.cache.putEmbedding(`k${i}`, randomVector(i + 1), {}))
  return s
}

export const benches = [
  bench({
    name: "cache.baseline.put",
    unit: "us",
    setup: async () => {
      const dir = await tempDir()
      const db = new Database(path.join(dir, "plain.sqlite"))
      db.pragma("journal_mode = WAL")
      db.exec("CREATE TABLE summaries (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT")
      return {
        dir,
        db,
        insert: db.prepare("INSERT OR REPLACE INTO summaries (key, value) VALUES (?, ?)"),
        n: 0
      }
    },
    run: (s) => {
      s.insert.run(`k${s.n++}`, Buffer.from(TEXT))
    },
    teardown: async (s) => {
      s.db.close()
      await fs.rm(s.dir, { recursive: true, force: true })
    }
  }),
  bench({
    name: "cache.put",
    unit: "us",
    baseline: "cache.baseline.put",
    setup: async () => openIn(await tempDir(), new Uint8Array(randomBytes(32))),
    run: (s) => Effect.runPromise(s.cache.putSummary(`k${s.n++}`, TEXT)),
    teardown: close,
    note: (m) => {
      const base = m("cache.baseline.put")
      const put = m("cache.put")
      return base && put ? `target <= 3 x baseline (now ${(put / base).toFixed(2)}x)` : undefined
    }
  }),
  bench({
    name: "cache.baseline.search.10k",
    unit: "us",
    setup: async () => {
      const matrix = new Float32Array(N * DIM)
      for (let i = 0; i < N; i++) matrix.set(randomVector(i + 1), i * DIM)
      return { matrix, query: randomVector(424242) }
    },
    run: (s) => {
      const scores = new Float32Array(N)
      for (let i = 0; i < N; i++) {
        let dot = 0
        const off = i * DIM
        for (let j = 0; j < DIM; j++) dot += s.matrix[off + j]! * s.query[j]!
        scores[i] = dot
      }
      const top: Array<number> = []
      for (let i = 0; i < N; i++) {
        if (top.length < 10) top.push(i)
        else {
          let worst = 0
          for (let t = 1; t < 10; t++) if (scores[top[t]!]! < scores[top[worst]!]!) worst = t
          if (scores[i]! > scores[top[worst]!]!) top[worst] = i
        }
      }
      return top
    },
    iterations: 50,
    time: 1000
  }),
  bench({
    name: "cache.search.10k",
    unit: "us",
    baseline: "cache.baseline.search.10k",
    setup: async () => Object.assign(await filled(), { query: randomVector(424242) }),
    run: (s) => Effect.runPromise(s.cache.search(s.query, 10)),
    teardown: close,
    iterations: 50,
    time: 1000,
    note: (m) => {
      const base = m("cache.baseline.search.10k")
      const search = m("cache.search.10k")
      return base && search ? `target <= 1.5 x baseline (now ${(search / base).toFixed(2)}x)` : undefined
    }
  }),
  bench({
    name: "cache.open",
    unit: "ms",
    setup: async () => {
      const s = await filled()
      await Effect.runPromise(Scope.close(s.scope, Exit.void))
      return { dir: s.dir, dataKey: s.dataKey }
    },
    run: async (s) => {
      const t = performance.now()
      const opened = await openIn(s.dir, s.dataKey)
      const ms = performance.now() - t
      await Effect.runPromise(Scope.close(opened.scope, Exit.void))
      return ms
    },
    sample: "returned",
    iterations: 5,
    time: 0,
    warmupIterations: 1,
    warmupTime: 0,
    teardown: (s) => fs.rm(s.dir, { recursive: true, force: true })
  })
]
