import * as fs from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { sessionCacheFiles } from "../src/CachePath.js"
import { featureHashEmbedder } from "../src/Embedder.js"
import { SessionCacheRegistry } from "../src/SessionCacheRegistry.js"
import { exists, filesContaining, keyFor, tempDir } from "./fixtures.js"

const DIM = 32
const embedder = featureHashEmbedder(DIM)
const withRegistry = <A, E>(
  rootDir: string,
  body: Effect.Effect<A, E, SessionCacheRegistry>,
  tenant = "acme"
) => Effect.provide(body, SessionCacheRegistry.layer({ rootDir, tenant, dimension: DIM }))

describe("SessionCacheRegistry", () => {
  it.scoped("MC-01 a session cannot reach another session's cache or entries", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const canary = "CANARY-s1-customer-said-secret-42"
      yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const s1 = yield* registry.open("acme", "s1", keyFor("s1"))
          yield* s1.putSummary("last-customer", canary)
          yield* s1.putEmbedding("last-customer", embedder.embed(canary), { text: canary })

          const notOpen = yield* Effect.flip(registry.get("s2"))
          expect([notOpen._tag, notOpen.code]).toEqual(["CacheScopeError", "E_CACHE_SCOPE"])
          for (const probe of ["../s1", "S1", "s1/../s1"]) {
            expect((yield* Effect.flip(registry.get(probe))).code).toBe("E_CACHE_SCOPE")
          }

          const s2 = yield* registry.open("acme", "s2", keyFor("s2"))
          expect(s2.path).not.toBe(s1.path)
          expect(yield* s2.getSummary("last-customer")).toEqual(Option.none())
          expect(yield* s2.search(embedder.embed("what did the last customer say"), 10)).toEqual([])
          expect(yield* s2.stats()).toEqual({ summaries: 0, embeddings: 0, documents: 0 })
          expect(filesContaining(root, canary).every((f) => f.startsWith(s1.path))).toBe(true)
          expect((yield* registry.get("s1")) === s1).toBe(true)
        })
      )
    })
  )

  it.scoped("MC-01 is bound to one tenant: opening another tenant's session fails", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          expect(registry.tenant).toBe("acme")
          const error = yield* Effect.flip(registry.open("globex", "s1", keyFor("s1")))
          expect(error._tag === "CacheScopeError" && error.code).toBe("E_TENANT_MISMATCH")
          expect(exists(join(root, "tenants", "globex"))).toBe(false)
          const bad = yield* Effect.flip(registry.open("acme", "../x", keyFor("../x")))
          expect(bad._tag === "InvalidIdentifier" && bad.code).toBe("E_INVALID_IDENTIFIER")
        })
      )
      const layerError = yield* Effect.flip(withRegistry(root, SessionCacheRegistry, "../acme"))
      expect(layerError.code).toBe("E_INVALID_IDENTIFIER")
    })
  )

  it.scoped("open is idempotent, also under concurrency; a closed cache is out of scope until reopened", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const opened = yield* Effect.all(
            Array.from({ length: 5 }, () => registry.open("acme", "s1", keyFor("s1"))),
            { concurrency: "unbounded" }
          )
          expect(new Set(opened).size).toBe(1)
          const cache = opened[0]!
          yield* cache.putSummary("k", "v")
          yield* cache.close()
          expect((yield* Effect.flip(registry.get("s1"))).code).toBe("E_CACHE_SCOPE")
          expect(registry.sessions()).toEqual([])
          const again = yield* registry.open("acme", "s1", keyFor("s1"))
          expect(again).not.toBe(cache)
          expect(Option.map(yield* again.getSummary("k"), (s) => s.text)).toEqual(Option.some("v"))
          expect(registry.sessions()).toEqual(["s1"])
        })
      )
    })
  )

  it.scoped("MC-04 destroy removes the session's files, also when it is not open here", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const canary = "CANARY-poison-session-one"
      const path = yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const s1 = yield* registry.open("acme", "s1", keyFor("s1"))
          yield* s1.putSummary("poison", canary)
          expect(sessionCacheFiles(s1.path).map(exists)).toEqual([true, true, true])
          yield* registry.destroy("s1")
          expect(sessionCacheFiles(s1.path).map(exists)).toEqual([false, false, false])
          expect((yield* Effect.flip(registry.get("s1"))).code).toBe("E_CACHE_SCOPE")
          yield* registry.destroy("s1")
          const leftover = yield* registry.open("acme", "s1", keyFor("s1"))
          yield* leftover.putSummary("poison", canary)
          return leftover.path
        })
      )
      expect(exists(path)).toBe(true)
      // what a crashed worker leaves behind: un-checkpointed -wal and -shm next to the file
      fs.writeFileSync(`${path}-wal`, canary)
      fs.writeFileSync(`${path}-shm`, canary)
      // the database itself holds only sealed values; the planted -wal and -shm hold the canary
      expect(filesContaining(root, canary).sort()).toEqual([`${path}-shm`, `${path}-wal`])
      yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          yield* registry.destroy("s1")
          expect(sessionCacheFiles(path).map(exists)).toEqual([false, false, false])
          expect(filesContaining(root, canary)).toEqual([])
          const fresh = yield* registry.open("acme", "s1", keyFor("s1"))
          expect(yield* fresh.getSummary("poison")).toEqual(Option.none())
          const bad = yield* Effect.flip(registry.destroy("../s1"))
          expect(bad._tag === "InvalidIdentifier" && bad.code).toBe("E_INVALID_IDENTIFIER")
        })
      )
    })
  )

  it.scoped("MC-04 destroyAll deletes every open session file and leaves no canary bytes", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const canary = "CANARY-destroy-all-9d1e"
      yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const caches = yield* Effect.all(["s1", "s2", "s3"].map((s) => registry.open("acme", s, keyFor(s))))
          for (const cache of caches) {
            yield* cache.putDocument({ key: "d", source: "web", content: `${cache.session} ${canary}` })
          }
          for (const cache of caches) {
            const document = yield* cache.getDocument("d")
            expect(Option.map(document, (d) => d.content)).toEqual(Option.some(`${cache.session} ${canary}`))
            expect(exists(cache.path)).toBe(true)
          }
          yield* registry.destroyAll()
          expect(caches.flatMap((c) => sessionCacheFiles(c.path)).some(exists)).toBe(false)
          expect(filesContaining(root, canary)).toEqual([])
          expect(registry.sessions()).toEqual([])
        })
      )
      expect(fs.readdirSync(join(root, "tenants", "acme", "sessions"))).toEqual([])
    })
  )

  it.scoped("releasing the layer closes every cache but keeps the files", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const cache = yield* withRegistry(
        root,
        Effect.gen(function* () {
          const registry = yield* SessionCacheRegistry
          const cache = yield* registry.open("acme", "s1", keyFor("s1"))
          yield* cache.putSummary("k", "kept")
          return cache
        })
      )
      expect(cache.isOpen()).toBe(false)
      expect(exists(cache.path)).toBe(true)
      const text = yield* withRegistry(
        root,
        Effect.flatMap(SessionCacheRegistry, (registry) =>
          Effect.flatMap(registry.open("acme", "s1", keyFor("s1")), (c) => c.getSummary("k"))
        )
      )
      expect(Option.map(text, (s) => s.text)).toEqual(Option.some("kept"))
    })
  )
})
