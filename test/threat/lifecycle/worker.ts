import { runTenantWorker } from "@cordon/runtime/TenantWorker"
import { lifecycleTeam } from "./team.js"

runTenantWorker(lifecycleTeam)
