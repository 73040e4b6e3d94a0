/**
 * Worker-message fuzzing: the `Protocol` schemas both sides decode (`WorkerRequest` in the worker;
 * `AgentEvent`, `CallBody`, `ReplyBody` in the broker), with unknown fields refused as where they are
 * decoded. Inputs are invalid by construction: a genuine message with one field deleted, given a value of
 * the wrong type, a foreign tag or an extra property; or random values whose `_tag` names no message.
 * Decoding must reject them all and never throw.
 */
import { AgentEvent, CallBody, ReplyBody, WorkerRequest } from "@cordon/runtime/Protocol"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import * as AST from "effect/SchemaAST"
import fc from "fast-check"
import { type FuzzTally, newTally, record } from "./tally.js"

const unions = [WorkerRequest, AgentEvent, CallBody, ReplyBody] as unknown as ReadonlyArray<
  Schema.Union<ReadonlyArray<Schema.Schema.Any>>
>

/**
 * One genuine message per member of every union, drawn from the member's own schema (`Arbitrary.make`)
 * and encoded to its wire form, so the samples follow the protocol as it changes.
 */
const genuineOf = (
  seed: number
): ReadonlyArray<readonly [Schema.Schema<unknown, unknown>, Record<string, unknown>]> =>
  unions.flatMap((union, u) =>
    union.members.map((member, i) => {
      const m = member as unknown as Schema.Schema<unknown, unknown>
      const [value] = FastCheck.sample(Arbitrary.make(m), { numRuns: 1, seed: seed + u * 100 + i })
      return [
        union as unknown as Schema.Schema<unknown, unknown>,
        Schema.encodeSync(m)(value) as Record<string, unknown>
      ] as const
    })
  )

/** What a position of a message may hold, read from the schema's declaration (its encoded side). */
type Spec =
  | { readonly kind: "free" | "string" | "number" | "boolean" }
  | { readonly kind: "literal"; readonly values: ReadonlyArray<unknown> }
  | { readonly kind: "nullable"; readonly inner: Spec }
  | { readonly kind: "array"; readonly item: Spec }
  | { readonly kind: "struct"; readonly fields: ReadonlyMap<string, { spec: Spec; optional: boolean }> }
  | { readonly kind: "tagged"; readonly members: ReadonlyArray<Spec> }

const specOf = (ast: AST.AST): Spec => {
  switch (ast._tag) {
    case "Refinement":
      return specOf(ast.from)
    case "Transformation":
      return specOf(ast.from)
    case "Suspend":
      return specOf(ast.f())
    case "StringKeyword":
    case "TemplateLiteral":
      return { kind: "string" }
    case "NumberKeyword":
      return { kind: "number" }
    case "BooleanKeyword":
      return { kind: "boolean" }
    case "Literal":
      return { kind: "literal", values: [ast.literal] }
    case "TupleType":
      return ast.elements.length === 0 && ast.rest.length === 1
        ? { kind: "array", item: specOf(ast.rest[0]!.type) }
        : { kind: "free" }
    case "TypeLiteral":
      if (ast.indexSignatures.length > 0) return { kind: "free" }
      return {
        kind: "struct",
        fields: new Map(
          ast.propertySignatures.map((p) => [
            String(p.name),
            { spec: specOf(p.type), optional: p.isOptional }
          ])
        )
      }
    case "Union": {
      const members = ast.types.map(specOf)
      const nonNull = ast.types.filter((t) => !(t._tag === "Literal" && t.literal === null))
      if (members.every((m) => m.kind === "literal")) {
        return { kind: "literal", values: members.flatMap((m) => (m.kind === "literal" ? m.values : [])) }
      }
      if (nonNull.length === 1 && nonNull.length < ast.types.length) {
        return { kind: "nullable", inner: specOf(nonNull[0]!) }
      }
      if (members.every((m) => m.kind === "struct")) return { kind: "tagged", members }
      return { kind: "free" }
    }
    default:
      return { kind: "free" }
  }
}

/** The struct spec of a tagged union member matching `value._tag`. */
const memberFor = (spec: Spec, value: unknown): Spec | undefined => {
  if (spec.kind !== "tagged") return spec
  const tag = (value as { _tag?: unknown } | null)?._tag
  return spec.members.find((m) => {
    const t = m.kind === "struct" ? m.fields.get("_tag")?.spec : undefined
    return t?.kind === "literal" && t.values.includes(tag)
  })
}

type Path = ReadonlyArray<string | number>
type Site = { readonly path: Path; readonly spec: Spec; readonly optional: boolean; readonly value: unknown }

/** Every position of a genuine message with what its schema declares there. */
const sitesOf = (spec: Spec, value: unknown, path: Path = [], optional = false): Array<Site> => {
  const here: Site = { path, spec, optional, value }
  if (spec.kind === "nullable")
    return value === null ? [here] : [here, ...sitesOf(spec.inner, value, path).slice(1)]
  if (spec.kind === "array" && Array.isArray(value)) {
    return [here, ...value.flatMap((v, i) => sitesOf(spec.item, v, [...path, i]))]
  }
  if (spec.kind === "tagged") {
    const member = memberFor(spec, value)
    return member === undefined ? [here] : [here, ...sitesOf(member, value, path).slice(1)]
  }
  if (spec.kind === "struct" && value !== null && typeof value === "object") {
    return [
      here,
      ...[...spec.fields].flatMap(([k, f]) =>
        k in value ? sitesOf(f.spec, (value as Record<string, unknown>)[k], [...path, k], f.optional) : []
      )
    ]
  }
  return [here]
}

const WRONG: Record<string, ReadonlyArray<unknown>> = {
  string: [0, -1, 1.5, true, [], ["x"], {}, null, 10n],
  number: ["1", "", true, [], {}, null, 10n],
  boolean: [0, 1, "true", [], {}, null],
  literal: [0, true, [], {}, null, "", "other-literal"],
  array: ["[]", 0, {}, { length: 0 }, null, true],
  struct: ["{}", 0, [], null, true],
  tagged: ["{}", 0, [], null, true, { _tag: "NoSuchTag" }]
}

const wrongFor = (site: Site): ReadonlyArray<unknown> => {
  if (site.spec.kind === "free") return []
  if (site.spec.kind === "nullable") {
    return (WRONG[site.spec.inner.kind] ?? []).filter((w) => w !== null && w !== site.value)
  }
  return (WRONG[site.spec.kind] ?? []).filter((w) => w !== site.value)
}

const clone = (v: unknown): unknown => structuredClone(v)
const getAt = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root)
const setAt = (root: unknown, path: Path, v: unknown): unknown => {
  if (path.length === 0) return v
  ;(getAt(root, path.slice(0, -1)) as Record<string | number, unknown>)[path[path.length - 1]!] = v
  return root
}

/** One invalid mutation of a genuine message (of declaration `spec`). */
const mutant = (spec: Spec, message: Record<string, unknown>) => {
  const sites = sitesOf(spec, message)
  const wrongSites = sites.filter((s) => wrongFor(s).length > 0)
  // A missing key decodes as `undefined`, which a free (`Unknown`) field accepts: only the others are required.
  const required = sites.filter(
    (s) => typeof s.path[s.path.length - 1] === "string" && !s.optional && s.spec.kind !== "free"
  )
  const structs = sites.filter(
    (s) =>
      (s.spec.kind === "struct" || s.spec.kind === "tagged") &&
      s.value !== null &&
      typeof s.value === "object"
  )
  const options: Array<fc.Arbitrary<unknown>> = [
    fc
      .constantFrom(...wrongSites)
      .chain((site) => fc.constantFrom(...wrongFor(site)).map((w) => setAt(clone(message), site.path, w)))
  ]
  if (required.length > 0) {
    options.push(
      fc.constantFrom(...required).map((site) => {
        const copy = clone(message)
        delete (getAt(copy, site.path.slice(0, -1)) as Record<string, unknown>)[
          site.path[site.path.length - 1] as string
        ]
        return copy
      })
    )
  }
  options.push(
    fc
      .tuple(
        fc.constantFrom(...structs),
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.jsonValue({ maxDepth: 2 })
      )
      .filter(([site, k]) => !(k in (site.value as object)) && k !== "__proto__")
      .map(([site, k, v]) => {
        const copy = clone(message)
        ;(getAt(copy, site.path) as Record<string, unknown>)[k] = v
        return copy
      })
  )
  return fc.oneof(...options)
}

/** Random values whose `_tag` (if any) names no message. */
const randomFor = (TAGS: ReadonlySet<string>) =>
  fc
    .oneof(
      fc.anything({
        maxDepth: 4,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true
      }),
      fc.record({ _tag: fc.string({ maxLength: 16 }) }, { noNullPrototype: false }),
      fc
        .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }))
        .map((d) => ({ ...d, _tag: `${d._tag ?? ""}?` }))
    )
    .filter(
      (v) => !(v !== null && typeof v === "object" && TAGS.has((v as { _tag?: unknown })._tag as string))
    )

/** Runs the protocol fuzz over `runs` inputs; returns the tally. */
export const fuzzProtocol = (runs: number, seed: number): FuzzTally => {
  const tally = newTally("worker messages")
  const genuine = genuineOf(seed)
  const TAGS = new Set(genuine.map(([, m]) => String(m._tag)))
  for (const [, m] of genuine) {
    const body = (m as { body?: { _tag?: unknown } }).body
    if (body?._tag !== undefined) TAGS.add(String(body._tag))
  }
  const decoders = new Map<unknown, (u: unknown) => Either.Either<unknown, unknown>>()
  const decoderOf = (schema: Schema.Schema<unknown, unknown>) => {
    let d = decoders.get(schema)
    if (d === undefined) {
      d = Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })
      decoders.set(schema, d)
    }
    return d
  }
  // Every genuine message decodes (so a rejection below is the schema's judgement).
  for (const [schema, message] of genuine) {
    if (Either.isLeft(decoderOf(schema)(message))) throw new Error(`genuine ${String(message._tag)} rejected`)
  }
  const check = (schema: Schema.Schema<unknown, unknown>, input: unknown) =>
    record(tally, () => (Either.isRight(decoderOf(schema)(input)) ? "accepted" : "rejected"), input)
  const perMessage = Math.floor((runs * 0.8) / genuine.length)
  genuine.forEach(([schema, message], i) => {
    const spec = memberFor(specOf(AST.encodedAST(schema.ast)), message)
    if (spec === undefined) throw new Error(`no declaration for ${String(message._tag)}`)
    for (const input of fc.sample(mutant(spec, message), { numRuns: perMessage, seed: seed + i })) {
      check(schema, input)
    }
  })
  const schemas = unions as unknown as ReadonlyArray<Schema.Schema<unknown, unknown>>
  const rest = runs - tally.inputs
  fc.sample(randomFor(TAGS), { numRuns: Math.ceil(rest / schemas.length), seed: seed + 99 }).forEach(
    (input) => {
      for (const schema of schemas) check(schema, input)
    }
  )
  return tally
}
