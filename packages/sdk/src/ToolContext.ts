import type { SessionCache } from "@cordon/cache"

/** A tenant-owned record a tool call touches; `tenant` is what the call asks for, not what it is allowed. */
export interface RecordRef {
  readonly type: "Mailbox"
  readonly tenant: string
  readonly id: string
}

/**
 * A tenant-owned record a tool's RESULT contains (any record type: `Doc`, `Order`, ...). `tenant` is the
 * tenant that owns the record as the data source reports it; the runtime compares it with the caller's
 * token tenant before the agent sees the result.
 */
export interface OwnedRecord {
  readonly type: string
  readonly tenant: string
  readonly id: string
}

/**
 * What a tool handler knows about the call it serves. Every field comes from the verified token chain
 * (never from the tool's arguments): `tenant` = `tnt`, `session` = `sid`, `txn` = root task id,
 * `agent` = the calling agent's name, `intent` = `int`.
 */
export interface ToolContext {
  readonly tenant: string
  readonly session: string
  readonly txn: string
  readonly agent: string
  readonly intent: string
  /** This session's cache (the only one the handler can reach). */
  readonly cache: SessionCache
  /** The tenant's own data directory (absolute path). */
  readonly tenantDir: string
  /**
   * This session's file directory (absolute path, `<tenantDir>/files/<session>`; it may not exist yet):
   * the root that `constraints.paths` arguments are jailed to. Resolve such an argument against it.
   */
  readonly sessionDir: string
  /** Deployment settings handed to the tenant's worker (no secrets). */
  readonly settings: Readonly<Record<string, string>>
}
