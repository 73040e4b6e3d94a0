/**
 * The Cedar schema every policy decision is validated against (namespace `Cordon`).
 *
 * Principals are agents; resources carry the tenant that owns them; the context carries the
 * tenant and session of the task, its intent, the delegation depth, the actor chain and the time.
 * Policies are validated against it in strict mode at boot, and every request is validated against
 * it before it is evaluated, so a policy can never read an attribute that is missing or ill-typed.
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

/**
 * The schema text (Cedar human-readable schema format).
 *
 * - `Tenant`; `Agent in [Tenant] { tenant, name, spiffeId, handoffs }` where `name` is the agent's
 *   name within its tenant and `handoffs` the names of the agents it may hand off to.
 * - `Intent { tools, agents }`: the tools allowed under the intent and the agents that may take part.
 * - `Tool { tenant, name }`, `Session { tenant }` and one entity per {@link RecordTypes} entry.
 * - actions `StartTask` (Agent → Session), `Handoff` (Agent → Agent), `InvokeTool` (Agent → Tool),
 *   `AccessRecord` (Agent → record types), `ReadCache` / `WriteCache` (Agent → Session), all with
 *   context `{ tenant, session, intent: Intent, depth: Long, actors: Set<String>, now: Long }`.
 */
export const CedarSchema: string = `namespace ${CedarNamespace} {
  entity Tenant;

  entity Agent in [Tenant] {
    tenant: String,
    name: String,
    spiffeId: String,
    handoffs: Set<String>
  };

  entity Intent {
    tools: Set<String>,
    agents: Set<String>
  };

  entity Tool {
    tenant: String,
    name: String
  };

  entity Session {
    tenant: String
  };

${RecordTypes.map((name) => `  entity ${name} {\n    tenant: String\n  };\n`).join("\n")}
  type RequestContext = {
    tenant: String,
    session: String,
    intent: Intent,
    depth: Long,
    actors: Set<String>,
    now: Long
  };

  action StartTask appliesTo { principal: [Agent], resource: [Session], context: RequestContext };
  action Handoff appliesTo { principal: [Agent], resource: [Agent], context: RequestContext };
  action InvokeTool appliesTo { principal: [Agent], resource: [Tool], context: RequestContext };
  action AccessRecord appliesTo {
    principal: [Agent],
    resource: [${RecordTypes.join(", ")}],
    context: RequestContext
  };
  action ReadCache appliesTo { principal: [Agent], resource: [Session], context: RequestContext };
  action WriteCache appliesTo { principal: [Agent], resource: [Session], context: RequestContext };
}
`
