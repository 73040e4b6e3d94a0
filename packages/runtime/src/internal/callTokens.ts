/**
 * The broker's minting of per-call tool tokens (TM-07, RP-03). Kept apart from `toolGuards` so that the
 * tenant worker bundle, which only verifies call tokens, never loads the token service.
 */
import type { CallClaims } from "@cordon/identity/CallToken"
import { TokenService } from "@cordon/identity/TokenService"
import type { AnyTool } from "@cordon/sdk/Tool"
import * as Effect from "effect/Effect"

/** Lifetime of a per-call token, in seconds (capped at the task token's `tokenTtlSec` and the caller's `exp`). */
export const CALL_TOKEN_TTL_SEC = 60

/**
 * Mints the per-call token of `tool` for the caller's `chain` by token exchange: `aud = tool.audience`,
 * `scp` = exactly `tool.scopes`, `rqb = binding`, lifetime {@link CALL_TOKEN_TTL_SEC} (≤ `tokenTtlSec`).
 */
export const issueCallToken = (
  run: { readonly tenant: string; readonly session: string },
  chain: ReadonlyArray<string>,
  tool: AnyTool,
  binding: string,
  config: { readonly tokenTtlSec: number; readonly maxDepth: number }
) =>
  Effect.flatMap(TokenService, (tokens) =>
    tokens.exchangeForCall({
      chain,
      audience: tool.audience,
      requiredScopes: tool.scopes,
      requestedScopes: tool.scopes,
      binding,
      ttlSeconds: Math.max(1, Math.min(CALL_TOKEN_TTL_SEC, config.tokenTtlSec)),
      maxDepth: config.maxDepth,
      tenant: run.tenant,
      session: run.session
    })
  )

/** Trace attributes of a call token: never the token itself. */
export const callTokenSummary = (c: CallClaims) => ({
  jti: c.jti.slice(0, 8),
  audience: c.aud,
  scopes: c.scp,
  exp: c.exp,
  depth: c.dep,
  binding: c.rqb.slice(0, 8)
})
