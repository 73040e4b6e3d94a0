/**
 * Starting a tenant worker from a V8 code cache. A worker bundle built by `scripts/bundle-worker.mjs`
 * carries, after a marker line, a classic-script body. The broker reads it once, and a new tenant worker
 * compiles that body with `vm.Script` and a code cache instead of parsing and compiling a 1 MB ES module
 * (and every function its start-up calls) again. How the cache is made: `codeCache.ts`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type * as WorkerThreads from "node:worker_threads"

/** The marker line `scripts/bundle-worker.mjs` writes after its one-line module header. */
export const MARKER = "//# cordon-worker-script v1"

/** A bundle's classic-script body, wrapped as a function of `require` and `module`. */
export interface WorkerScript {
  readonly filename: string
  readonly source: string
}

/** The `workerData` key the loader reads (and deletes, so the worker does not keep the copies alive). */
const KEY = "cordonWorkerScript"

/**
 * The worker's first code (run with `eval: true`): compiles the body with the code cache when there is
 * one, and runs it with a `require` rooted at the bundle's own path (so its native addons resolve as
 * before). Given a `control` port (only the thread that makes the cache), it answers any message there
 * with the code cache of the body as compiled so far.
 */
export const LOADER = `"use strict";
const { workerData } = require("node:worker_threads");
const { Script } = require("node:vm");
const { createRequire } = require("node:module");
const data = workerData.${KEY};
delete workerData.${KEY};
const script = new Script(data.source, {
  filename: data.filename,
  ...(data.cachedData === undefined ? {} : { cachedData: data.cachedData })
});
script.runInThisContext()(createRequire(data.filename), { exports: {} });
if (data.control !== undefined) data.control.on("message", () => data.control.postMessage(script.createCachedData()));
`

/**
 * Reads `entry` once; returns its classic-script body when it is a bundle built by
 * `scripts/bundle-worker.mjs`, `undefined` for any other entry (started as a plain module file).
 */
export const load = (entry: string): WorkerScript | undefined => {
  let text: string
  try {
    text = fs.readFileSync(entry, "utf8")
  } catch {
    return undefined
  }
  const first = text.indexOf("\n")
  const second = first < 0 ? -1 : text.indexOf("\n", first + 1)
  if (second < 0 || text.slice(first + 1, second) !== MARKER) return undefined
  return {
    filename: path.resolve(entry),
    source: `(function (require, module) {${text.slice(second + 1)}\n})`
  }
}

/**
 * `worker_threads` options that start `script` through {@link LOADER}: with `cachedData` when there is
 * one (each worker gets its own copy: `workerData` is cloned, never shared), with `control` only for the
 * thread that makes the cache.
 */
export const launch = (
  script: WorkerScript,
  cachedData: Uint8Array | undefined,
  control?: WorkerThreads.MessagePort
): Pick<WorkerThreads.WorkerOptions, "eval" | "workerData" | "transferList"> => ({
  eval: true,
  workerData: { [KEY]: { filename: script.filename, source: script.source, cachedData, control } },
  ...(control === undefined ? {} : { transferList: [control] })
})
