/** The tenant worker entry of the mail team; bundled to `dist/worker.mjs` by `pnpm build`. */
import { runTenantWorker } from "@cordon/runtime/TenantWorker"
import { mailTeam } from "./team/index.js"

runTenantWorker(mailTeam)
