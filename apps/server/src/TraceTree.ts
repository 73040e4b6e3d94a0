/**
 * Renders a delegation trace as a tree: agents, handoffs (short jti, scopes, expiry, depth), tool calls,
 * policy decisions, denials, revocations and timings. Pure: text in, text out.
 */
import type { TraceView } from "@cordon/api"

type Event = TraceView["events"][number]

const STATUS: Record<string, string> = { ok: "✓", error: "✗", deny: "⛔", running: "…" }

const duration = (e: Event) => (e.endMs === null ? "" : ` ${Math.max(0, e.endMs - e.startMs)}ms`)

const describe = (e: Event, baseMs: number): string => {
  const a = e.attrs as Record<string, unknown>
  const at = `+${e.startMs - baseMs}ms`
  const mark = STATUS[e.status] ?? e.status
  switch (e.kind) {
    case "task":
      return `${mark} task ${e.name}${duration(e)}${a.code ? ` [${String(a.code)}]` : ""}`
    case "agent":
      return e.name === "note"
        ? `· note: ${JSON.stringify(String(a.message ?? ""))} ${at}`
        : `${mark} agent ${e.name}${duration(e)}${a.code ? ` [${String(a.code)}]` : ""}`
    case "handoff": {
      const scopes = Array.isArray(a.scopes) ? (a.scopes as Array<string>).join(" ") : ""
      const exp = typeof a.exp === "number" ? new Date(a.exp * 1000).toISOString().slice(11, 19) : "?"
      const token =
        a.jti === undefined
          ? ""
          : ` jti=${String(a.jti)} scp=[${scopes}] exp=${exp}Z depth=${String(a.depth)}`
      return `${mark} handoff ${e.name}${token}${a.code ? ` [${String(a.code)}]` : ""} ${at}`
    }
    case "tool":
      return `${mark} tool ${e.name}${duration(e)}${a.code ? ` [${String(a.code)}]` : ""}`
    case "policy":
      return `${mark} DENY ${e.name} code=${String(a.code)} policy=${Array.isArray(a.policies) ? a.policies.join(",") : ""} ${at}`
    case "revocation":
      return `${mark} ${e.name} (${String(a.reason ?? "")}) ${at}`
    default:
      return `${mark} ${e.kind} ${e.name} ${at}`
  }
}

/** The trace of one task as an indented tree (children in start order). */
export const renderTraceTree = (trace: TraceView): string => {
  const children = new Map<string | null, Array<Event>>()
  const ids = new Set(trace.events.map((e) => e.spanId))
  for (const e of trace.events) {
    const parent = e.parentSpanId !== null && ids.has(e.parentSpanId) ? e.parentSpanId : null
    const list = children.get(parent) ?? []
    list.push(e)
    children.set(parent, list)
  }
  const baseMs = trace.events[0]?.startMs ?? 0
  const lines: Array<string> = [
    `task ${trace.task.id}  tenant=${trace.task.tenant} session=${trace.task.session} status=${trace.task.status}` +
      (trace.task.error ? ` error=${trace.task.error.code}` : "")
  ]
  const walk = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? []
    list.forEach((e, i) => {
      const last = i === list.length - 1
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${describe(e, baseMs)}`)
      walk(e.spanId, `${prefix}${last ? "   " : "│  "}`)
    })
  }
  walk(null, "")
  return lines.join("\n")
}
