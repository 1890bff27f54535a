import { readPackageVersion } from '../../common/version';
import { CHANNEL_PERMISSIONS, type ChannelKind } from './live-channels';
import { CLIENT_EVENTS, type JsonSchema, LIVE_ERROR_SCHEMA, SERVER_EVENTS } from './live.events';

type Doc = Record<string, unknown>;

const KIND_DOCS: Record<ChannelKind, { address: string; description: string; parameters?: Doc }> = {
  prices: { address: 'prices', description: 'Every price update.' },
  'security-events': { address: 'security-events', description: 'Security events recorded by threat detection.' },
  metrics: { address: 'metrics', description: 'Metric samples of the monitoring module.' },
  alerts: { address: 'alerts', description: 'Alerts created or changing state.' },
  portfolio: {
    address: 'portfolio:{portfolioId}',
    description:
      'Trades and revaluations (with the new totals) of one portfolio. Object-checked like GET /api/v1/portfolios/{id}: a portfolio you may not see answers NOT_FOUND, exactly as one that does not exist.',
    parameters: { portfolioId: { description: 'The portfolio id (UUID).' } },
  },
  report: {
    address: 'report:{reportId}',
    description:
      'Progress of one report run, sent to the run’s owner only. Any well-formed id is accepted; for a run you may not see nothing ever arrives, exactly as for one that does not exist.',
    parameters: { reportId: { description: 'The report run id (UUID).' } },
  },
};

const channelId = (kind: ChannelKind): string => kind.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const messageId = (event: string): string => event.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

/**
 * The AsyncAPI 3.0 document of the live gateway, built from the one event map
 * ({@link SERVER_EVENTS}, {@link CLIENT_EVENTS}) and the channel permissions. Served at
 * GET /docs/asyncapi.json.
 */
export function buildAsyncApiDocument(): Doc {
  const messages: Record<string, Doc> = {};
  const channels: Record<string, Doc> = {};
  const operations: Record<string, Doc> = {};

  for (const [event, doc] of Object.entries(SERVER_EVENTS)) {
    messages[messageId(event)] = {
      name: event,
      title: event,
      summary: doc.summary,
      contentType: 'application/json',
      payload: doc.payload,
    };
  }
  for (const [event, doc] of Object.entries(CLIENT_EVENTS)) {
    messages[messageId(event)] = {
      name: event,
      title: event,
      summary: doc.summary,
      contentType: 'application/json',
      payload: doc.payload,
    };
    messages[`${messageId(event)}Ack`] = {
      name: `${event} ack`,
      title: `${event} acknowledgement`,
      summary: `The acknowledgement of \`${event}\`: {ok: true, ...} or {ok: false, error: {code, message}}.`,
      contentType: 'application/json',
      payload: doc.ack,
    };
  }
  messages.connectError = {
    name: 'connect_error',
    title: 'connect_error',
    summary:
      'A refused handshake: Socket.IO’s connect_error, whose `data` is this object (UNAUTHENTICATED, INVALID_TOKEN, IP_BLOCKED, FORBIDDEN (origin), RATE_LIMITED, PASSWORD_EXPIRED, MFA_ENROLMENT_REQUIRED, BAD_REQUEST).',
    contentType: 'application/json',
    payload: LIVE_ERROR_SCHEMA,
  };

  for (const kind of Object.keys(KIND_DOCS) as ChannelKind[]) {
    const k = KIND_DOCS[kind];
    const events = Object.entries(SERVER_EVENTS).filter(([, d]) => d.channels.includes(kind));
    const id = channelId(kind);
    channels[id] = {
      address: k.address,
      title: k.address,
      description: `${k.description} Needs ${CHANNEL_PERMISSIONS[kind].map((p) => `\`${p}\``).join(' and ')}; subscribe with \`subscribe {channel: "${k.address}"}\`.`,
      ...(k.parameters ? { parameters: k.parameters } : {}),
      messages: Object.fromEntries(
        events.map(([e]) => [messageId(e), { $ref: `#/components/messages/${messageId(e)}` }]),
      ),
    };
    operations[`receive${id.charAt(0).toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      title: `Push on ${k.address}`,
      summary: `What subscribers of ${k.address} receive.`,
      channel: { $ref: `#/channels/${id}` },
      messages: events.map(([e]) => ({ $ref: `#/channels/${id}/messages/${messageId(e)}` })),
    };
  }

  const connectionEvents = Object.entries(SERVER_EVENTS).filter(([, d]) => d.channels.includes('connection'));
  const clientEvents = Object.keys(CLIENT_EVENTS);
  channels.connection = {
    address: null,
    title: 'The connection',
    description:
      'Events about the connection itself and the client’s requests. Client events are answered through the Socket.IO acknowledgement (the *Ack messages).',
    messages: Object.fromEntries([
      ...connectionEvents.map(([e]) => [messageId(e), { $ref: `#/components/messages/${messageId(e)}` }]),
      ...clientEvents.flatMap((e) => [
        [messageId(e), { $ref: `#/components/messages/${messageId(e)}` }],
        [`${messageId(e)}Ack`, { $ref: `#/components/messages/${messageId(e)}Ack` }],
      ]),
      ['connectError', { $ref: '#/components/messages/connectError' }],
    ]),
  };
  operations.connectionEvents = {
    action: 'send',
    title: 'Connection events',
    channel: { $ref: '#/channels/connection' },
    messages: [
      ...connectionEvents.map(([e]) => ({ $ref: `#/channels/connection/messages/${messageId(e)}` })),
      { $ref: '#/channels/connection/messages/connectError' },
    ],
  };
  for (const e of clientEvents) {
    operations[messageId(e)] = {
      action: 'receive',
      title: e,
      summary: CLIENT_EVENTS[e as keyof typeof CLIENT_EVENTS].summary,
      channel: { $ref: '#/channels/connection' },
      messages: [{ $ref: `#/channels/connection/messages/${messageId(e)}` }],
      reply: {
        channel: { $ref: '#/channels/connection' },
        messages: [{ $ref: `#/channels/connection/messages/${messageId(e)}Ack` }],
      },
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Bastion live gateway',
      version: readPackageVersion(),
      description: [
        'Socket.IO namespace `/live` on the port of the REST API (path `/socket.io`).',
        '',
        '**Handshake**: `io(url + "/live", {auth: {token: <access token>}})` or `{auth: {apiKey: <key>}}`. A refusal is a `connect_error` whose `data` is `{code, message}`. IP rules, TRUSTED_PROXIES and CORS_ORIGINS apply as for REST.',
        '',
        '**Channels**: emit `subscribe` / `unsubscribe` with `{channel}` and an acknowledgement callback; the ack is `{ok: true, channel}` or `{ok: false, error: {code, message}}`. Each subscription is checked against the caller’s current permissions (and, for a portfolio, object access).',
        '',
        '**While open**: sessions, users, API keys and permissions are re-checked about every 500 ms on every instance. A lost permission ends the subscription with `revoked`; a revoked session, inactive user, revoked or expired key, or expired access token closes the connection after a `closing` event with the reason. Send a fresh token with `auth` before the access token expires.',
        '',
        '**Limits**: client messages are rate-limited per connection and size-limited (error acks RATE_LIMITED, PAYLOAD_TOO_LARGE); a client that reads too slowly is disconnected (`slow_consumer`).',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      bastion: {
        host: 'localhost:3000',
        protocol: 'ws',
        pathname: '/live',
        description: 'Socket.IO (Engine.IO v4) on the API’s own host and port.',
        security: [
          { $ref: '#/components/securitySchemes/accessToken' },
          { $ref: '#/components/securitySchemes/apiKey' },
        ],
      },
    },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: {
        accessToken: {
          type: 'httpApiKey',
          name: 'token',
          in: 'query',
          description: 'Access JWT from POST /api/v1/auth/login, sent in the Socket.IO handshake as `auth.token`.',
        },
        apiKey: {
          type: 'httpApiKey',
          name: 'apiKey',
          in: 'query',
          description: 'API key from POST /api/v1/api-keys, sent in the Socket.IO handshake as `auth.apiKey`.',
        },
      },
    },
  };
}

export type { JsonSchema };
