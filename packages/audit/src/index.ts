export { type AuditBus, type AuditSink, createAuditBus } from './bus.js'
export {
  AUDIT_EVENT_TYPES,
  type AuditComponent,
  type AuditDetails,
  type AuditEvent,
  type AuditEventInput,
  type AuditEventType,
  type AuditOutcome,
  createAuditEvent,
} from './events.js'
export { timeOrderedId } from './ids.js'
