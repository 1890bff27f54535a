/**
 * operationIds that read as function names in generated clients (`getMe`, `listPortfolios`,
 * `getPortfolioV2`): the controller method's verb and the controller's resource, not
 * `controller_method`. CRUD method names (`list`, `get`, `create`, `update`, `remove`) are joined to
 * the resource; other method names are kept as they are unless listed in OPERATION_NAMES.
 */

/** `Controller.method` → operationId where the rule above would read poorly. */
export const OPERATION_NAMES: Record<string, string> = {
  'Health.live': 'getLiveness',
  'Health.ready': 'getReadiness',
  'Status.status': 'getStatus',
  'Auth.refresh': 'refreshTokens',
  'Me.me': 'getMe',
  'Me.update': 'updateMe',
  'Me.sessions': 'listMySessions',
  'Me.endOthers': 'endOtherSessions',
  'Me.endOne': 'endMySession',
  'Me.activity': 'listMyActivity',
  'Mfa.status': 'getMfaStatus',
  'Mfa.enrol': 'enrolTotp',
  'Mfa.disable': 'disableTotp',
  'Mfa.activate': 'activateTotp',
  'Users.setRoles': 'setUserRoles',
  'Users.setStatus': 'setUserStatus',
  'Users.unlock': 'unlockUser',
  'Users.revokeSessions': 'revokeUserSessions',
  'Users.activity': 'listUserActivity',
  'Groups.addMember': 'addGroupMember',
  'Groups.removeMember': 'removeGroupMember',
  'ApiKeys.revoke': 'revokeApiKey',
  'Keys.rotate': 'rotateKey',
  'Keys.export': 'exportKey',
  'Keys.datakey': 'generateDataKey',
  'Keys.datakeyBatch': 'generateDataKeyBatch',
  'Portfolios.positionsOf': 'listPositions',
  'Portfolios.share': 'sharePortfolio',
  'Portfolios.unshare': 'unsharePortfolio',
  'Trades.bulk': 'createTradesBulk',
  'Prices.bulk': 'createPricesBulk',
  'Monitoring.read': 'getMetricHistory',
  'Monitoring.get': 'getDashboard',
  'AlertRules.catalogue': 'getAlertRuleCatalogue',
  'Alerts.deliveries': 'listAlertNotifications',
  'Alerts.acknowledge': 'acknowledgeAlert',
  'Alerts.resolve': 'resolveAlert',
  'Alerts.silences': 'listSilences',
  'Reports.templates': 'listReportTemplates',
  'Reports.createTemplate': 'createReportTemplate',
  'Reports.download': 'downloadReport',
  'ReportSchedules.runNow': 'runReportSchedule',
  'ApiStats.get': 'getApiStats',
  'Metrics.metrics': 'getPrometheusMetrics',
  'AsyncApi.get': 'getAsyncApiDocument',
  'Audit.list': 'listAuditEvents',
  'Audit.verify': 'verifyAuditChain',
};

/** Resource nouns (plural, singular) where the controller name is not one. */
const NOUNS: Record<string, [string, string]> = {
  Audit: ['AuditEvents', 'AuditEvent'],
  PortfoliosV2: ['Portfolios', 'Portfolio'],
};

const CRUD: Record<string, (plural: string, singular: string) => string> = {
  list: (p) => `list${p}`,
  get: (_, s) => `get${s}`,
  create: (_, s) => `create${s}`,
  update: (_, s) => `update${s}`,
  remove: (_, s) => `delete${s}`,
  delete: (_, s) => `delete${s}`,
};

const singular = (plural: string): string =>
  plural.endsWith('ies') ? `${plural.slice(0, -3)}y` : plural.endsWith('s') ? plural.slice(0, -1) : plural;

export function operationIdOf(controllerKey: string, methodKey: string, version?: string): string {
  const controller = controllerKey.replace(/Controller$/, '');
  const [plural, one] = NOUNS[controller] ?? [controller, singular(controller)];
  const base = OPERATION_NAMES[`${controller}.${methodKey}`] ?? CRUD[methodKey]?.(plural, one) ?? methodKey;
  const v = version?.replace(/^v/, '');
  return v && v !== '1' ? `${base}V${v}` : base;
}
