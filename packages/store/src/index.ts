/**
 * `@cordon/store`: the control-plane SQLite database — migrations, tenants, sessions, tasks,
 * credentials, the hash-chained audit log and delegation traces.
 *
 * @module
 */
export { Approvals, ApprovalRow, type ApprovalsService } from "./Approvals.js"
export * from "./AuditChain.js"
export * from "./AuditCheckpoints.js"
export * from "./AuditIntegrity.js"
export { AuditLog, type AuditLogService } from "./AuditLog.js"
export * as ControlPlane from "./ControlPlane.js"
export { Credentials, type CredentialsService, type NewCredential } from "./Credentials.js"
export * from "./Errors.js"
export { Job, Jobs, type JobsService, JobStatus, type NewJob } from "./Jobs.js"
export { migrations } from "./Migrations.js"
export * from "./Model.js"
export { ActivePolicyRow, PolicySets, type PolicySetsService, PolicyVersionRow } from "./PolicySets.js"
export { type NewSession, Sessions, type SessionsService } from "./Sessions.js"
export { type NewTask, Tasks, type TasksService } from "./Tasks.js"
export { Tenants, type TenantsService } from "./Tenants.js"
export { type SpanEnd, TraceStore, type TraceStoreService } from "./TraceStore.js"
export { type SigningKeyRow, SigningKeys, type SigningKeysService } from "./SigningKeys.js"
