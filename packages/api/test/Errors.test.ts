import { describe, expect, it } from "vitest"
import {
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  Unauthenticated,
  Unavailable,
  exitCodeOf
} from "../src/Errors.js"

describe("error table", () => {
  it("maps every API error to a distinct CLI exit code", () => {
    const errors = [
      new BadRequest({ code: "E_BAD_REQUEST", message: "" }),
      new Unauthenticated({ code: "E_UNAUTHENTICATED", message: "" }),
      new NotFound({ code: "E_NOT_FOUND", resource: "task", id: "x" }),
      new Forbidden({ code: "E_POLICY_DENY", message: "" }),
      new Conflict({ code: "E_SESSION_CLOSED", message: "" }),
      new Unavailable({ code: "E_WORKER_UNAVAILABLE", message: "" })
    ]
    const codes = errors.map(exitCodeOf)
    expect(new Set(codes).size).toBe(errors.length)
    expect(codes.every((c) => c >= 2)).toBe(true)
  })
})
