/**
 * Lineage rules between a link and its parent (RFC 8693 §4.1 semantics over Cordon's own signed
 * chain), checked one link at a time so a broken chain is refused at its first bad link.
 *
 * @internal
 */
import { actorEquals, type TaskClaims } from "../Claims.js"
import { DelegationChainError } from "../TokenError.js"
import { spiffePartsOf } from "./memo.js"

const trustDomainOf = (uri: string): string | undefined => spiffePartsOf(uri)?.trustDomain

function isSubset(child: ReadonlyArray<string>, parent: ReadonlyArray<string>): boolean {
  for (const s of child) if (!parent.includes(s)) return false
  return true
}

function fail(reason: DelegationChainError["reason"]): DelegationChainError {
  return new DelegationChainError({ reason })
}

/** Whether `act` is `{ sub: parent.sub, act: parent.act }` (the parent's actor chain extended). */
function extendsActors(act: TaskClaims["act"], parent: TaskClaims): boolean {
  return act !== undefined && act.sub === parent.sub && actorEquals(act.act, parent.act)
}

/** Walks a chain root first; `next` checks one more link against what came before it. */
export class LineageWalker {
  private readonly links: Array<TaskClaims> = []
  private readonly hashes: Array<string> = []
  private readonly seen = new Set<string>()
  private trustDomain: string | undefined

  constructor(private readonly maxDepth: number) {}

  /** The failure of `link` (whose token hashes to `hash`) as the next link, or `undefined`. */
  next(link: TaskClaims, hash: string): DelegationChainError | undefined {
    const error = this.check(link)
    if (error !== undefined) return error
    this.links.push(link)
    this.hashes.push(hash)
    this.seen.add(link.sub)
    return undefined
  }

  private check(link: TaskClaims): DelegationChainError | undefined {
    const i = this.links.length
    if (i === 0) {
      if (link.dep !== 0 || link.prev !== undefined || link.act !== undefined) return fail("broken_link")
      this.trustDomain = trustDomainOf(link.sub)
      return undefined
    }
    const parent = this.links[i - 1]!
    if (link.prev !== this.hashes[i - 1]) return fail("broken_link")
    if (link.dep !== parent.dep + 1) return fail("broken_link")
    if (link.dep > this.maxDepth) return fail("depth")
    if (!extendsActors(link.act, parent)) return fail("broken_link")
    if (this.seen.has(link.sub)) return fail("cycle")
    if (
      link.iss !== parent.iss ||
      link.sid !== parent.sid ||
      link.txn !== parent.txn ||
      link.usr !== parent.usr ||
      trustDomainOf(link.sub) !== this.trustDomain
    ) {
      return fail("binding")
    }
    if (!isSubset(link.scp, parent.scp)) return fail("scope_widened")
    if (link.exp > parent.exp || link.nbf < parent.nbf) return fail("expiry_extended")
    return undefined
  }
}
