import { runTenantWorker } from "@cordon/runtime/TenantWorker"
import { policyTeam } from "./team.js"

runTenantWorker(policyTeam)
