/**
 * `@cordon/store`: the control-plane SQLite database — migrations, tenants, sessions, tasks,
 * credentials, the hash-chained audit log and delegation traces.
 *
 * @module
 */
export * from "./AuditChain.js"
export { AuditLog, type AuditLogService } from "./AuditLog.js"
export * as ControlPlane from "./ControlPlane.js"
export { Credentials, type CredentialsService, type NewCredential } from "./Credentials.js"
export * from "./Errors.js"
export { migrations } from "./Migrations.js"
export * from "./Model.js"
export { type NewSession, Sessions, type SessionsService } from "./Sessions.js"
export { type NewTask, Tasks, type TasksService } from "./Tasks.js"
export { Tenants, type TenantsService } from "./Tenants.js"
export { type SpanEnd, TraceStore, type TraceStoreService } from "./TraceStore.js"
export { type SigningKeyRow, SigningKeys, type SigningKeysService } from "./SigningKeys.js"
