import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { sessionCacheFiles, sessionCachePath, validateIdentifier } from "../src/CachePath.js"

const BAD_IDS = [
  "../x",
  "A",
  "a/b",
  "",
  "-a",
  "a".repeat(64),
  "a\\b",
  "a\u0000",
  ".",
  "..",
  "a b",
  "é",
  "a.b"
]

describe("sessionCachePath", () => {
  it("builds <rootDir>/tenants/<tenant>/sessions/<session>.sqlite", () => {
    expect(sessionCachePath("/data", "acme", "s-1")).toEqual(
      Either.right(join("/data", "tenants", "acme", "sessions", "s-1.sqlite"))
    )
  })

  it("accepts the longest and digit-led identifiers", () => {
    expect(Either.isRight(sessionCachePath("/data", "0-a", "a".repeat(63)))).toBe(true)
  })

  for (const bad of BAD_IDS) {
    it(`MC-01 rejects tenant ${JSON.stringify(bad)} without echoing it`, () => {
      const result = sessionCachePath("/data", bad, "s1")
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left.code).toBe("E_INVALID_IDENTIFIER")
        expect(result.left.field).toBe("tenant")
        if (bad.length > 2) expect(result.left.message).not.toContain(bad)
      }
    })

    it(`MC-01 rejects session ${JSON.stringify(bad)}`, () => {
      const result = sessionCachePath("/data", "acme", bad)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("InvalidIdentifier")
        expect(result.left.field).toBe("session")
      }
    })
  }

  it("rejects non-string values", () => {
    expect(Either.isLeft(validateIdentifier("session", 42 as unknown as string))).toBe(true)
  })
})

describe("sessionCacheFiles", () => {
  it("lists the database, -wal and -shm files", () => {
    expect(sessionCacheFiles("/d/s.sqlite")).toEqual(["/d/s.sqlite", "/d/s.sqlite-wal", "/d/s.sqlite-shm"])
  })
})
