/**
 * The Cedar schema every policy decision is validated against (namespace `Cordon`).
 *
 * Principals are agents and users, each belonging to a tenant (`owner`, which carries the tenant's
 * `suspended` status); resources carry the tenant that owns them; the context carries the tenant and
 * session of the task, its intent, the delegation depth, the actor chain, the root user, the time, the
 * tool arguments and the approval / taint flags. Policies are validated against it in strict mode,
 * and every request is validated against it before it is evaluated, so a policy can never read an
 * attribute that is missing or ill-typed.
 *
 * @see https://docs.cedarpolicy.com/schema/human-readable-schema.html
 * @module
 */

/** The Cedar namespace of every Cordon entity type and action. */
export const CedarNamespace = "Cordon"

/**
 * Tenant-owned record types that `AccessRecord` applies to. Each is declared as
 * `entity <Name> { tenant: String }`; adding a name here adds the entity type, makes it a resource
 * of `AccessRecord` and makes it accepted in a `PolicyRequest`.
 */
export const RecordTypes = ["Mailbox"] as const

/** One of {@link RecordTypes}. */
export type RecordType = (typeof RecordTypes)[number]

/** Every action of the schema (Cedar `Cordon::Action::"<name>"`). */
export const CedarActions = [
  "StartTask",
  "Handoff",
  "InvokeTool",
  "AccessRecord",
  "ReadCache",
  "WriteCache",
  "ScheduleJob",
  "Approve"
] as const

/**
 * The schema text (Cedar human-readable schema format).
 *
 * - `Tenant { suspended }`; `Agent in [Tenant] { tenant, owner, name, spiffeId, handoffs }` where
 *   `owner` is the agent's tenant entity, `name` its name within the tenant and `handoffs` the names
 *   of the agents it may hand off to; `User in [Tenant] { tenant, owner, id, roles }`.
 * - `Intent { tools, agents, actions }`: what a task under the intent may use.
 * - `Args { size, keys, numbers } tags String`: the tool arguments. Every scalar argument is a tag
 *   (nested objects flattened to dotted keys, arrays and objects as canonical JSON); `size` is the
 *   canonical JSON length in bytes; `numbers` (`ArgNumbers`, `tags Long`) holds the integer ones.
 *   Strict validation makes a policy test `hasTag("k")` before `getTag("k")`.
 * - `Tool { tenant, name, risk }` (`risk` is `"low"` or `"high"`), `Session { tenant }`, `Approval { tenant, session, tool }` and one
 *   entity per {@link RecordTypes} entry.
 * - context `{ tenant, session, intent, depth: Long, actors: Set<String>, rootUser, now: Long
 *   (epoch s), args: Args, approved: Bool, tainted: Bool }`.
 */
export const CedarSchema: string = `namespace ${CedarNamespace} {
  entity Tenant {
    suspended: Bool
  };

  entity Agent in [Tenant] {
    tenant: String,
    owner: Tenant,
    name: String,
    spiffeId: String,
    handoffs: Set<String>
  };

  entity User in [Tenant] {
    tenant: String,
    owner: Tenant,
    id: String,
    roles: Set<String>
  };

  entity Intent {
    tools: Set<String>,
    agents: Set<String>,
    actions: Set<String>
  };

  entity ArgNumbers tags Long;

  entity Args {
    size: Long,
    keys: Set<String>,
    numbers: ArgNumbers
  } tags String;

  entity Tool {
    tenant: String,
    name: String,
    risk: String
  };

  entity Session {
    tenant: String
  };

  entity Approval {
    tenant: String,
    session: String,
    tool: String
  };

${RecordTypes.map((name) => `  entity ${name} {\n    tenant: String\n  };\n`).join("\n")}
  type RequestContext = {
    tenant: String,
    session: String,
    intent: Intent,
    depth: Long,
    actors: Set<String>,
    rootUser: String,
    now: Long,
    args: Args,
    approved: Bool,
    tainted: Bool
  };

  action StartTask appliesTo { principal: [Agent, User], resource: [Session], context: RequestContext };
  action Handoff appliesTo { principal: [Agent], resource: [Agent], context: RequestContext };
  action InvokeTool appliesTo { principal: [Agent], resource: [Tool], context: RequestContext };
  action AccessRecord appliesTo {
    principal: [Agent],
    resource: [${RecordTypes.join(", ")}],
    context: RequestContext
  };
  action ReadCache appliesTo { principal: [Agent], resource: [Session], context: RequestContext };
  action WriteCache appliesTo { principal: [Agent], resource: [Session], context: RequestContext };
  action ScheduleJob appliesTo { principal: [Agent, User], resource: [Session], context: RequestContext };
  action Approve appliesTo { principal: [User], resource: [Approval], context: RequestContext };
}
`
