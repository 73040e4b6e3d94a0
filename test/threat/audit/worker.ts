import { runTenantWorker } from "@cordon/runtime/TenantWorker"
import { parentPort } from "node:worker_threads"
import { auditTeam } from "./team.js"

// Keep a copy of everything the broker sends this worker, so a tool can report what the worker was given.
const seen: Array<unknown> = []
;(globalThis as { __cordonReceived?: Array<unknown> }).__cordonReceived = seen
parentPort?.on("message", (message: unknown) => {
  if (seen.length < 200) seen.push(message)
})

runTenantWorker(auditTeam)
