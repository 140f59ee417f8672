/**
 * Every event of the audit trail (docs/security.md, "The audit trail"). EventSink.emit takes only these, so a
 * new event does not compile until it is listed here, and `oauthd audit --event` (its validation and its
 * help) always knows each one.
 */
export const AUDIT_EVENTS = [
  'token.issued',
  'refresh_token.rotated',
  'refresh_token.replayed',
  'refresh_token.reused',
  'grant.revoked',
  'login.failed',
  'client_auth.failed',
  'client.network_refused',
  'lockout.started',
  'user.created',
  'user.disabled',
  'user.enabled',
  'user.password_changed',
  'client.created',
  'client.deleted',
  'client.secret_rotated',
  'client.updated',
  'user.renamed',
  'user.deleted',
  'lockout.cleared',
  'client.password_grant_refused',
  'login.succeeded',
  'session.ended',
  'consent.given',
  'consent.revoked',
  'authorization.denied',
  'authorization_code.issued',
  'authorization_code.redeemed',
  'authorization_code.reused',
  'device_code.issued',
  'device.approved',
  'device.denied',
  'user.admin_granted',
  'user.admin_revoked',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

export const isAuditEventName = (value: string): value is AuditEventName =>
  (AUDIT_EVENTS as readonly string[]).includes(value);
