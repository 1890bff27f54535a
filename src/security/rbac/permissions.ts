/**
 * The one permission catalogue. Every route, Socket.IO channel and API key scope names its needs
 * with strings from this object, so a typo is a compile error rather than a silently open (or
 * silently closed) endpoint, and `GET /api/v1/roles` can describe every permission it lists.
 *
 * Shape: `resource:action`, lower-case kebab on both sides. "Own" versus "everyone's" is split
 * into two permissions where it matters (`portfolios:read` / `portfolios:read-all`,
 * `api-keys:*`, `sessions:manage`): a user's own sessions, API keys and profile need only
 * authentication, while acting on other people's needs the wider permission.
 *
 * Adding a permission: add it here, then give it to a role in `roles.ts` (super_admin receives it
 * automatically). The role tests fail until admin's share is decided explicitly.
 */
export const PERMISSIONS = {
  // Identity: users, groups, roles, sessions
  'users:read': 'List users and read their profiles, statuses, roles and groups',
  'users:create': 'Create user accounts directly (bypassing registration)',
  'users:update': "Edit other users' profiles",
  'users:manage-roles': 'Assign and remove roles (limited by the granter rank rules)',
  'users:manage-status': 'Activate, approve, suspend, deactivate and unlock user accounts',
  'users:read-activity': "Read a user's activity history (logins, sessions, changes)",
  'groups:read': 'List groups, their members and the permissions they grant',
  'groups:manage': 'Create, edit and delete groups and change their membership',
  'roles:read': 'List roles and their effective permissions',
  'sessions:manage': "List and revoke other users' sessions (own sessions need no permission)",

  // Security: audit, threat detection, network rules, API keys, key management
  'audit:read': 'Search and read the audit log',
  'audit:verify': 'Verify the hash chain of the audit log',
  'security-events:read': 'Read security events (lockouts, suspicious logins, denied requests)',
  'ip-rules:read': 'List IP allow and deny rules',
  'ip-rules:manage': 'Create and delete IP allow and deny rules',
  'api-keys:read-all': "List every user's API keys (metadata only, never secrets)",
  'api-keys:revoke-any': "Revoke any user's API key",
  'keys:manage': 'Create, rotate and rewrap named encryption and signing keys',
  'keys:use': 'Encrypt, decrypt, sign and verify with named keys',

  // Trading
  'portfolios:read': 'Read own portfolios and portfolios shared with the user, with positions',
  'portfolios:create': 'Create portfolios',
  'portfolios:read-all': 'Read every portfolio, not just own or shared ones',
  'portfolios:update': 'Rename, re-describe and archive own portfolios',
  'trades:read': 'Read trades of portfolios the user can read',
  'trades:write': 'Record trades in own portfolios and in portfolios shared with the user for writing',
  'trades:write-any': 'Record trades in any portfolio the user can see, not only own or write-shared ones',
  'prices:read': 'Read instrument prices: the latest of a symbol and its history',
  'prices:write': 'Publish instrument prices (market data used to value every portfolio)',

  // Monitoring
  'monitoring:read': 'View the monitoring dashboard, alert rules and alerts',
  'metrics:read': 'Read raw metrics and their history, and scrape the Prometheus endpoint',
  'alert-rules:manage': 'Create, edit and delete alert rules',
  'alerts:manage': 'Acknowledge and resolve alerts',

  // Reporting
  'reports:read': 'List report runs and download report files the user can see',
  'reports:create': 'Run reports from templates',
  'reports:read-all':
    "Read other users' report runs and files, of data sources whose data the reader may read themselves",
  'report-templates:manage': 'Create and edit report templates',
  'report-schedules:manage': 'Create, edit and delete report schedules',

  // System
  'system:read': 'Read detailed system status (runtime mode, versions, dependencies)',
  'api-stats:read': 'Read API usage statistics',
} as const;

/** A permission string from the catalogue, e.g. `'trades:write'`. */
export type Permission = keyof typeof PERMISSIONS;

/** Every permission in catalogue order; frozen so no caller can widen it at runtime. */
export const ALL_PERMISSIONS: readonly Permission[] = Object.freeze(Object.keys(PERMISSIONS) as Permission[]);

/** The shape every permission must have: `resource:action`, lower-case kebab-case words. */
export const PERMISSION_PATTERN = /^[a-z]+(?:-[a-z]+)*:[a-z]+(?:-[a-z]+)*$/;

/**
 * Narrows an untrusted string (a decorator argument, a group's stored permissions, an API key's
 * scopes) to a catalogue permission. Only own keys count, so `'toString'` or `'__proto__'` never
 * pass.
 */
export function isPermission(s: string): s is Permission {
  return Object.hasOwn(PERMISSIONS, s);
}
