/**
 * One session's cache: summaries, embeddings (with an in-memory vector index) and retrieved
 * documents in one SQLite file, `<rootDir>/tenants/<tenant>/sessions/<session>.sqlite` (WAL mode).
 * Meant to be opened by the tenant's worker thread only, one owning thread per file: the cache runs
 * better-sqlite3 prepared statements synchronously on that thread.
 *
 * Encryption at rest: every stored value (summary text and meta, embedding vector and meta,
 * document content, provenance, timestamps) is sealed with AES-256-GCM under the session's data
 * key, which is held in memory only and zeroed on close. Entry keys stay in clear text as primary
 * keys: they are ids chosen by the runtime and must not carry data.
 *
 * @module
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { checkBinding } from "./CacheBinding.js"
import { sessionCachePath, validateIdentifier } from "./CachePath.js"
import type { SessionCache, SessionCacheOptions } from "./CacheTypes.js"
import type { CacheError, CacheScopeError, InvalidIdentifier } from "./Errors.js"
import { DEFAULT_TTL_SECONDS, fail, isPositiveInteger, isTtl } from "./internal/checks.js"
import { openDb } from "./internal/Db.js"
import { ensurePrivateFile } from "./internal/files.js"
import { makeHandle } from "./internal/handle.js"
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES } from "./internal/Quota.js"
import { isDataKey, makeSealer } from "./internal/Seal.js"

export type {
  CachedDocument,
  CacheMeta,
  CacheStats,
  CacheUsage,
  CacheWriteError,
  DocumentInput,
  Provenance,
  SearchHit,
  SessionCache,
  SessionCacheOptions,
  Summary,
  TenantQuota,
  Trust,
  WriteOptions
} from "./CacheTypes.js"
export { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS } from "./internal/checks.js"
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_TENANT_MAX_BYTES,
  DEFAULT_TENANT_MAX_ENTRIES,
  makeTenantQuota
} from "./internal/Quota.js"

/** Smallest accepted `maxFileBytes` (64 KiB: room for the tables and the key check). */
export const MIN_FILE_BYTES = 65_536
const DEFAULT_PURGE_INTERVAL_SECONDS = 60

/**
 * Opens (creating if needed) one session's cache file in the current `Scope`.
 *
 * Creates `<rootDir>/tenants/<tenant>/sessions/` with mode 0o700 and the file with mode 0o600,
 * enables WAL, a 5 s busy timeout, `secure_delete` and `trusted_schema = OFF`, refuses a file that
 * holds any table, index, view or trigger the cache does not create, creates the tables
 * `summaries`, `embeddings`, `documents` (each `key TEXT PRIMARY KEY, value BLOB, expires_at,
 * task_tag`, `value` = `iv | ciphertext | tag`, AAD `cordon-cache|<tenant>|<session>|<table>|<key>`)
 * and `cache_info`, records layout, vector dimension and a sealed key check on first open, deletes
 * expired entries, decrypts the stored embeddings into the in-memory index, and starts the purge
 * of expired entries every `purgeIntervalSeconds`. Closing the scope closes the connection, stops
 * the purge, refunds the tenant quota and zeroes the key copy (the file stays).
 *
 * `ATTACH`: better-sqlite3 exposes neither `sqlite3_limit(SQLITE_LIMIT_ATTACHED)` nor an
 * authorizer, so `ATTACH` is excluded by construction: every SQL text is a constant fixed at load
 * (`internal/rows.ts`; the one exception is `PRAGMA max_page_count = <integer>` from the validated
 * `maxFileBytes`), all values are bound parameters, and the file's path comes only from validated
 * tenant and session ids (`test/Hardening.test.ts` checks all three).
 *
 * Fails with `InvalidIdentifier` for a bad tenant/session id; `CacheScopeError` when the running
 * code is bound to another session or tenant (see `CacheBinding`); `CacheError` reason
 * `invalid-argument` for a bad `dimension`, `dataKey` (not a 32-byte `Uint8Array`), quota, TTL or
 * interval; `dimension` when the file was created with another dimension; `corrupt` when the key
 * check or a stored embedding does not open with this key, tenant and session (wrong key, file or
 * row copied from another session or tenant), the file has another layout or foreign schema
 * objects; `io` when a directory or the file cannot be created safely (symbolic links refused);
 * `sql` when SQLite fails (e.g. the file is not a database).
 */
export const openSessionCache = (
  options: SessionCacheOptions
): Effect.Effect<SessionCache, CacheError | CacheScopeError | InvalidIdentifier, Scope.Scope> =>
  Effect.gen(function* () {
    const { dataKey, dimension, session, tenant } = options
    yield* validateIdentifier("tenant", tenant)
    yield* validateIdentifier("session", session)
    yield* checkBinding(tenant, session)
    const path = yield* sessionCachePath(options.rootDir, tenant, session)
    const config = {
      path,
      tenant,
      session,
      dimension,
      maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
      defaultTtlSeconds: options.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS,
      tenantQuota: options.tenantQuota
    }
    const purgeInterval = options.purgeIntervalSeconds ?? DEFAULT_PURGE_INTERVAL_SECONDS
    if (
      !isPositiveInteger(dimension, 65536) ||
      !isDataKey(dataKey) ||
      !isPositiveInteger(config.maxEntries) ||
      !isPositiveInteger(config.maxBytes) ||
      !isTtl(config.defaultTtlSeconds) ||
      !isPositiveInteger(purgeInterval) ||
      (options.maxFileBytes !== undefined &&
        !(isPositiveInteger(options.maxFileBytes) && options.maxFileBytes >= MIN_FILE_BYTES))
    )
      return yield* fail("invalid-argument")
    yield* ensurePrivateFile(path)
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const sealer = makeSealer(dataKey, tenant, session)
    yield* Scope.addFinalizer(scope, Effect.sync(sealer.wipe))
    return yield* Effect.gen(function* () {
      const db = yield* openDb(path, { dimension, maxFileBytes: options.maxFileBytes }, sealer)
      yield* Scope.addFinalizer(
        scope,
        Effect.sync(() => db.db.close())
      )
      const { handle, load } = makeHandle(config, db, sealer, scope)
      yield* load
      yield* Effect.forkIn(
        Effect.forever(
          Effect.zipRight(Effect.sleep(Duration.seconds(purgeInterval)), Effect.ignore(handle.purgeExpired()))
        ),
        scope
      )
      return handle
    }).pipe(Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))))
  }).pipe(
    Effect.withSpan("SessionCache.open", {
      attributes: { "cordon.tenant": options.tenant, "cordon.session": options.session }
    })
  )
