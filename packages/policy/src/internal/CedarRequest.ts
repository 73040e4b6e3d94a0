/**
 * Builds the Cedar JSON form of a `PolicyRequest`. Every entity uid is a `{ type, id }` object and
 * every value a JSON value: request strings are data to Cedar, never policy text.
 *
 * Entity ids: `Tenant` = tenant, `Agent` = SPIFFE ID (unique across tenants), `Tool` = tool name,
 * `Session` / record types = their id, `Intent` = intent name.
 *
 * `Tenant` entities are not sent: the schema gives them no attributes and they are only referenced
 * as an agent's parent, and Cedar resolves `in` through the child's parent edges alone, so sending
 * them would add entity-loading work without changing any decision.
 *
 * @internal
 */
import type * as Cedar from "@cedar-policy/cedar-wasm/nodejs"
import { CedarNamespace } from "../CedarSchema.js"
import type { PolicyPrincipal, PolicyRequest, PolicyResource } from "../PolicyRequest.js"
import type { CedarCall } from "./CedarEngine.js"

/** An entity whose uid is in the plain `{ type, id }` form. */
type Entity = Cedar.EntityJson & { readonly uid: Cedar.TypeAndId }

const uid = (type: string, id: string): Cedar.TypeAndId => ({ type: `${CedarNamespace}::${type}`, id })

const agentEntity = (agent: {
  readonly tenant: string
  readonly name: string
  readonly spiffeId: string
  readonly handoffs: ReadonlyArray<string>
}): Entity => ({
  uid: uid("Agent", agent.spiffeId),
  attrs: { tenant: agent.tenant, name: agent.name, spiffeId: agent.spiffeId, handoffs: [...agent.handoffs] },
  parents: [uid("Tenant", agent.tenant)]
})

const principalEntity = (p: PolicyPrincipal): Entity =>
  agentEntity({ tenant: p.tenant, name: p.agent, spiffeId: p.spiffeId, handoffs: p.handoffs })

const resourceEntity = (r: PolicyResource): Entity => {
  switch (r.type) {
    case "Agent":
      return agentEntity(r)
    case "Tool":
      return { uid: uid("Tool", r.name), attrs: { tenant: r.tenant, name: r.name }, parents: [] }
    default:
      return { uid: uid(r.type, r.id), attrs: { tenant: r.tenant }, parents: [] }
  }
}

/**
 * Adds `entity` unless an identical one is already present. A different entity with the same uid
 * is kept as a duplicate so that Cedar rejects the request rather than one of them being dropped.
 */
const addEntity = (entities: Array<Cedar.EntityJson>, entity: Entity): void => {
  let encoded: string | undefined
  for (const e of entities as ReadonlyArray<Entity>) {
    if (e.uid.type !== entity.uid.type || e.uid.id !== entity.uid.id) continue
    encoded ??= JSON.stringify(entity)
    if (JSON.stringify(e) === encoded) return
  }
  entities.push(entity)
}

/** The Cedar call for `req`: principal, action, resource uids, context and the entity slice. */
export const toCedarCall = (req: PolicyRequest): CedarCall => {
  const principal = principalEntity(req.principal)
  const resource = resourceEntity(req.resource)
  const intent: Entity = {
    uid: uid("Intent", req.context.intent.name),
    attrs: { tools: [...req.context.intent.tools], agents: [...req.context.intent.agents] },
    parents: []
  }
  const entities: Array<Cedar.EntityJson> = []
  for (const entity of [principal, resource, intent]) addEntity(entities, entity)
  return {
    principal: principal.uid,
    action: uid("Action", req.action),
    resource: resource.uid,
    context: {
      tenant: req.context.tenant,
      session: req.context.session,
      intent: { __entity: uid("Intent", req.context.intent.name) },
      depth: req.context.depth,
      actors: [...req.context.actors],
      now: req.context.now
    },
    entities
  }
}
