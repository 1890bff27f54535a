/**
 * A frontend team's client, generated from Bastion's OpenAPI document with openapi-typescript and
 * called through openapi-fetch, with no casts: `npm run client:check` regenerates `schema.d.ts`
 * from the document and compiles this file in strict mode, so a change to the contract that
 * breaks clients breaks CI. `npm run client:run` runs it against a server (.ci/run does, against
 * the smoke-started build): BASTION_URL, BASTION_EMAIL, BASTION_PASSWORD.
 */
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Problem = components['schemas']['ProblemDto'];
type Positions = components['schemas']['PositionsDto'];

function must<T>(step: string, result: { data?: T; error?: Problem | unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${step}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

export async function tradingFlow(baseUrl: string, email: string, password: string): Promise<Positions> {
  const api = createClient<paths>({ baseUrl });

  // Login: the answer is tokens, or an MFA challenge when TOTP is enrolled.
  const login = must('login', await api.POST('/api/v1/auth/login', { body: { email, password } }));
  if ('mfaRequired' in login) throw new Error('this account has TOTP enrolled: verify with /api/v1/auth/mfa/verify');
  const accessToken: string = login.accessToken;
  api.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${accessToken}`);
      return request;
    },
  });

  const me = must('me', await api.GET('/api/v1/me'));
  const canTrade: boolean = me.permissions.includes('trades:write');
  if (!canTrade) throw new Error(`${me.email} lacks trades:write`);

  // A portfolio (allowShort has a server default: not sent).
  const portfolio = must(
    'create portfolio',
    await api.POST('/api/v1/portfolios', { body: { name: `Client check ${randomUUID()}`, baseCurrency: 'USD' } }),
  );
  const path = { id: portfolio.id };
  const v2 = must('portfolio v2', await api.GET('/api/v2/portfolios/{id}', { params: { path } }));
  if (v2.id !== portfolio.id) throw new Error('v2 answered another portfolio');

  // A trade, retried safely with an Idempotency-Key (fees has a server default: not sent).
  const executedAt = new Date(Date.now() - 60_000).toISOString();
  const trade = must(
    'trade',
    await api.POST('/api/v1/portfolios/{id}/trades', {
      params: { path, header: { 'Idempotency-Key': randomUUID() } },
      body: { symbol: 'AAPL', side: 'buy', quantity: '10', price: '187.25', executedAt },
    }),
  );

  // A bulk of trades.
  const bulk = must(
    'bulk',
    await api.POST('/api/v1/portfolios/{id}/trades/bulk', {
      params: { path },
      body: {
        trades: [
          { symbol: 'MSFT', side: 'buy', quantity: '5', price: '410.10', executedAt, externalId: `ext-${trade.id}` },
          { symbol: 'AAPL', side: 'sell', quantity: '4', price: '189.00', fees: '1.50', executedAt },
        ],
      },
    }),
  );
  const created: number = bulk.created;

  // A price, which revalues the positions holding the symbol.
  must(
    'price',
    await api.POST('/api/v1/prices', { body: { symbol: 'AAPL', price: '190.00', asOf: new Date().toISOString() } }),
  );

  const positions = must('positions', await api.GET('/api/v1/portfolios/{id}/positions', { params: { path } }));
  const aapl = positions.positions.find((p) => p.symbol === 'AAPL');
  if (aapl?.quantity !== '6' || created !== 2) {
    throw new Error(`unexpected positions: ${JSON.stringify(positions.positions)} after ${created} bulk trades`);
  }
  return positions;
}

if (require.main === module) {
  const { BASTION_URL = 'http://127.0.0.1:3000', BASTION_EMAIL = '', BASTION_PASSWORD = '' } = process.env;
  tradingFlow(BASTION_URL, BASTION_EMAIL, BASTION_PASSWORD).then(
    (positions) => {
      for (const p of positions.positions) console.log(`${p.symbol} ${p.quantity} @ ${p.price ?? '-'}`);
      console.log(`totals ${JSON.stringify(positions.totals)}`);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
