import { runTenantWorker } from "@cordon/runtime/TenantWorker"
import { chaosTeam } from "./team.js"

runTenantWorker(chaosTeam)
