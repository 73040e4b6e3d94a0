import * as path from "node:path"

/** `<dataDir>/tenants/<tenant>`; `tenant` must already be a validated tenant id. */
export const tenantDirOf = (dataDir: string, tenant: string): string => path.join(dataDir, "tenants", tenant)

/** The SPIFFE ID of an agent of a tenant: `spiffe://<td>/tenant/<tenant>/agent/<agent>`. */
export const agentUri = (trustDomain: string, tenant: string, agent: string): string =>
  `spiffe://${trustDomain}/tenant/${tenant}/agent/${agent}`
