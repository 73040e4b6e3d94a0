/**
 * Builds the Cedar JSON form of a `PolicyRequest`. Every entity uid is a `{ type, id }` object and
 * every value a JSON value: request strings are data to Cedar, never policy text.
 *
 * Entity ids: `Tenant` = tenant, `Agent` = SPIFFE ID (unique across tenants), `User` = user id,
 * `Tool` = tool name, `Session` / `Approval` / record types = their id, `Intent` = intent name,
 * `Args` / `ArgNumbers` = `"args"`.
 *
 * The principal's `Tenant` entity is sent with its `suspended` status (the authoriser's view, never
 * the caller's). Tool arguments become tags of the `Args` entity: nested objects are flattened to
 * dotted keys (up to {@link MaxArgDepth} levels), arrays become canonical JSON, every other scalar
 * its string form; safe integers are also tags of `ArgNumbers`.
 *
 * @internal
 */
import type * as Cedar from "@cedar-policy/cedar-wasm/nodejs"
import { CedarNamespace } from "../CedarSchema.js"
import type { PolicyRequest, PolicyResource } from "../PolicyRequest.js"
import type { CedarCall } from "./CedarEngine.js"
import { canonicalJson } from "./DecisionCache.js"

/** Nesting depth up to which argument objects are flattened into dotted tag keys. */
export const MaxArgDepth = 4

/** Largest canonical JSON size of the arguments, in bytes; larger ones are refused. */
export const MaxArgBytes = 65_536

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
  attrs: {
    tenant: agent.tenant,
    owner: { __entity: uid("Tenant", agent.tenant) },
    name: agent.name,
    spiffeId: agent.spiffeId,
    handoffs: [...agent.handoffs]
  },
  parents: [uid("Tenant", agent.tenant)]
})

const principalEntity = (p: PolicyRequest["principal"]): Entity =>
  p.type === "User"
    ? {
        uid: uid("User", p.id),
        attrs: {
          tenant: p.tenant,
          owner: { __entity: uid("Tenant", p.tenant) },
          id: p.id,
          roles: [...p.roles]
        },
        parents: [uid("Tenant", p.tenant)]
      }
    : agentEntity({ tenant: p.tenant, name: p.agent, spiffeId: p.spiffeId, handoffs: p.handoffs })

const resourceEntity = (r: PolicyResource): Entity => {
  switch (r.type) {
    case "Agent":
      return agentEntity(r)
    case "Tool":
      return {
        uid: uid("Tool", r.name),
        attrs: { tenant: r.tenant, name: r.name, risk: r.risk },
        parents: []
      }
    case "Approval":
      return {
        uid: uid("Approval", r.id),
        attrs: { tenant: r.tenant, session: r.session, tool: r.tool },
        parents: []
      }
    default:
      return { uid: uid(r.type, r.id), attrs: { tenant: r.tenant }, parents: [] }
  }
}

/** The flattened argument tags (strings) and integer tags of `args`. */
const flattenArgs = (input: unknown) => {
  const args: Readonly<Record<string, unknown>> =
    input !== null && typeof input === "object" && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : { value: input }
  const tags: Record<string, string> = {}
  const numbers: Record<string, number> = {}
  const visit = (prefix: string, value: unknown, depth: number): void => {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && depth < MaxArgDepth) {
      for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
        if (member !== undefined) visit(prefix === "" ? key : `${prefix}.${key}`, member, depth + 1)
      }
      return
    }
    if (typeof value === "string") tags[prefix] = value
    else if (value === null || typeof value === "object") tags[prefix] = canonicalJson(value)
    else tags[prefix] = String(value)
    if (typeof value === "number" && Number.isSafeInteger(value)) numbers[prefix] = value
  }
  for (const [key, member] of Object.entries(args)) if (member !== undefined) visit(key, member, 1)
  return { tags, numbers }
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

/**
 * The Cedar call for `req`, with the principal's tenant `suspended` as given: principal, action,
 * resource uids, context and the entity slice. Returns a string (the reason) when the arguments
 * exceed {@link MaxArgBytes} or are not JSON data (a cycle, a `BigInt`).
 */
export const toCedarCall = (req: PolicyRequest, suspended: boolean): CedarCall | string => {
  let argsJson: string
  let flattened: ReturnType<typeof flattenArgs>
  try {
    argsJson = canonicalJson(req.context.args ?? null)
    flattened = flattenArgs(req.context.args)
  } catch {
    return "request.context.args: not JSON data (a cycle or a BigInt)"
  }
  const size = Buffer.byteLength(argsJson, "utf8")
  if (size > MaxArgBytes) return `request.context.args: larger than ${MaxArgBytes} bytes`
  const { tags, numbers } = flattened
  const principal = principalEntity(req.principal)
  const resource = resourceEntity(req.resource)
  const intent: Entity = {
    uid: uid("Intent", req.context.intent.name),
    attrs: {
      tools: [...req.context.intent.tools],
      agents: [...req.context.intent.agents],
      actions: [...req.context.intent.actions]
    },
    parents: []
  }
  const tenant: Entity = { uid: uid("Tenant", req.principal.tenant), attrs: { suspended }, parents: [] }
  const argNumbers: Entity = { uid: uid("ArgNumbers", "args"), attrs: {}, parents: [], tags: numbers }
  const argsEntity: Entity = {
    uid: uid("Args", "args"),
    attrs: { size, keys: Object.keys(tags), numbers: { __entity: argNumbers.uid } },
    parents: [],
    tags
  }
  const entities: Array<Cedar.EntityJson> = []
  for (const entity of [principal, resource, intent, tenant, argsEntity, argNumbers]) {
    addEntity(entities, entity)
  }
  return {
    principal: principal.uid,
    action: uid("Action", req.action),
    resource: resource.uid,
    context: {
      tenant: req.context.tenant,
      session: req.context.session,
      intent: { __entity: intent.uid },
      depth: req.context.depth,
      actors: [...req.context.actors],
      rootUser: req.context.rootUser,
      now: req.context.now,
      args: { __entity: argsEntity.uid },
      approved: req.context.approved,
      tainted: req.context.tainted
    },
    entities
  }
}
