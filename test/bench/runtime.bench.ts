/**
 * Runtime benchmarks (issue 6 item 10): a tenant worker's cold start, the warm dispatch round trip against
 * the same no-op agent called in-process, and the resident memory of an idle tenant worker.
 *
 * - `runtime.worker.spawn` (ms): `TenantWorkerPool.get` for a tenant with no live worker until the worker
 *   is ready — thread start, bundled entry loaded, `InitialMessage` booted (tenant keys, session-cache
 *   registry), readiness `Ping` answered. The tenant's boot data already exists. Target ≤ 150 ms.
 * - `runtime.dispatch` (µs): the broker → worker `RunAgent` round trip of the `noop` agent on a warm worker
 *   with a root token minted once: request encoded and size-checked, posted, decoded by the worker, the
 *   token chain verified in the worker (signature from its verified-chain cache; expiry and revocation
 *   checked), session cache looked up, input decoded, agent run, output encoded and size-checked, posted
 *   back, strictly decoded by the broker, stream ended. Not included: the HTTP request, the task row in
 *   SQLite, the `StartTask` policy decision and its audit record, minting. Target ≤ 1 ms.
 * - `runtime.baseline.inprocess` (µs): `noop.run` plus its output encoding on the main thread.
 * - `runtime.worker.rss` (MB): process RSS growth while 8 idle tenant workers are live, divided by 8.
 *   Target ≤ 40 MB.
 *
 * @module
 */
import { bench } from "./Bench.js"
import {
  type DispatchState,
  inProcessNoop,
  type RssState,
  type SpawnState,
  setupDispatch,
  setupRss,
  setupSpawn
} from "./RuntimeFixture.js"

export const benches = [
  bench<SpawnState>({
    name: "runtime.worker.spawn",
    unit: "ms",
    sample: "returned",
    setup: setupSpawn,
    run: (s) => s.coldStart(),
    teardown: (s) => s.dispose(),
    iterations: 30,
    time: 0,
    warmupIterations: 3,
    warmupTime: 0,
    note: () => "cold start to ready (target ≤ 150 ms)"
  }),
  bench({
    name: "runtime.baseline.inprocess",
    unit: "us",
    run: () => inProcessNoop(),
    note: () => "noop agent + output encoding, main thread"
  }),
  bench<DispatchState>({
    name: "runtime.dispatch",
    unit: "us",
    baseline: "runtime.baseline.inprocess",
    setup: setupDispatch,
    run: (s) => s.dispatch(),
    teardown: (s) => s.dispose(),
    note: (median) => {
      const us = median("runtime.dispatch")
      return us === undefined ? undefined : `RunAgent round trip, warm worker (target ≤ 1000 µs)`
    }
  }),
  bench<RssState>({
    name: "runtime.worker.rss",
    unit: "MB",
    sample: "returned",
    setup: () => setupRss(8),
    run: (s) => s.perWorker(),
    teardown: (s) => s.dispose(),
    iterations: 5,
    time: 0,
    warmupIterations: 1,
    warmupTime: 0,
    note: () => "process RSS growth per idle worker, 8 workers (target ≤ 40 MB)"
  })
]
