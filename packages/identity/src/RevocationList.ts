/**
 * The broker's revocation list of task-token `jti`s. jose does not track revocation; verifiers
 * consult {@link RevocationListService.isRevoked} for every link of a chain on every use. The broker
 * persists revocations in its store separately; this in-memory list is what verification reads.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect"

/** Why a set of `jti`s was revoked (recorded for audit; verification only needs membership). */
export type RevocationReason =
  | "task_complete"
  | "ancestor_revoked"
  | "tenant_offboarded"
  | "session_closed"
  | "manual"

/** The revocation-list service. */
export interface RevocationListService {
  /** Adds `jtis` to the list (idempotent; the first reason recorded for a `jti` is kept). */
  readonly revoke: (jtis: ReadonlyArray<string>, reason: RevocationReason) => Effect.Effect<void>
  /** Whether `jti` is revoked. Synchronous, for use as a verifier predicate. */
  readonly isRevoked: (jti: string) => boolean
  /** The reason recorded for `jti`, if it is revoked. */
  readonly reasonOf: (jti: string) => RevocationReason | undefined
  /** A copy of the revoked `jti`s at this instant. */
  readonly snapshot: () => ReadonlySet<string>
}

/** Builds an empty in-memory revocation list. */
export const make: Effect.Effect<RevocationListService> = Effect.sync(() => {
  const revoked = new Map<string, RevocationReason>()
  return RevocationList.of({
    revoke: (jtis, reason) =>
      Effect.sync(() => {
        for (const jti of jtis) {
          if (!revoked.has(jti)) revoked.set(jti, reason)
        }
      }),
    isRevoked: (jti) => revoked.has(jti),
    reasonOf: (jti) => revoked.get(jti),
    snapshot: () => new Set(revoked.keys())
  })
})

/** Context tag of the revocation list. `RevocationList.layer` is the in-memory implementation. */
export class RevocationList extends Context.Tag("@cordon/identity/RevocationList")<
  RevocationList,
  RevocationListService
>() {
  /** In-memory revocation list, empty at start. */
  static readonly layer: Layer.Layer<RevocationList> = Layer.effect(RevocationList, make)
}
