import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../../../src/reporting/render/renderers';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Swagger UI as an administrator uses it, in headless Chromium (Debian's, driven by
 * playwright-core): sign in with "Try it out" on POST /auth/login, then call GET /me with the
 * token that filled "Authorize".
 */
const CHROMIUM = process.env.REPORTS_CHROMIUM_PATH ?? '/usr/bin/chromium';

type UiWindow = {
  ui: {
    authSelectors: { authorized(): { toJS(): Record<string, unknown> } };
    authActions: { authorize(payload: Record<string, unknown>): void };
    specSelectors: { specJson(): { getIn(path: string[]): { toJS(): unknown } } };
  };
};

describe('Swagger UI', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
    t = await startTestApp(BOOTSTRAP_ENV);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
    page = await browser.newPage();
    await page.goto(`${t.baseUrl}/docs/`);
    await page.locator('#operations-auth-login').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const authorized = (): Promise<string[]> =>
    page.evaluate(() => Object.keys((globalThis as unknown as UiWindow).ui.authSelectors.authorized().toJS()));

  /** Opens an operation, presses "Try it out", optionally replaces the body, and executes it. */
  async function tryOut(
    blockId: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Record<string, string> }> {
    const block = page.locator(`#${blockId}`);
    await block.locator('.opblock-summary').first().click();
    await block.locator('.try-out__btn').click();
    if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === path),
      block.locator('.execute').click(),
    ]);
    await block.locator('.live-responses-table tr.response .response-col_status').first().waitFor();
    return { status: response.status(), headers: await response.request().allHeaders() };
  }

  it('signs in through POST /auth/login, which fills Authorize, then executes GET /api/v1/me with 200', async () => {
    expect(await authorized()).toEqual([]);

    const login = await tryOut('operations-auth-login', '/api/v1/auth/login', {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    });
    expect(login.status).toBe(200);
    expect(await authorized()).toEqual(['bearer']);

    const me = await tryOut('operations-me-getMe', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(me.headers['x-api-key']).toBeUndefined();
    const shown = await page
      .locator('#operations-me-getMe .live-responses-table tr.response .response-col_status')
      .first()
      .textContent();
    expect(shown?.trim()).toBe('200');
    await expect(page.locator('#operations-me-getMe .live-responses-table').textContent()).resolves.toContain(
      ADMIN_EMAIL,
    );
  });

  it('keeps nothing in localStorage and holds one scheme at a time', async () => {
    const stored = await page.evaluate(() =>
      Object.keys((globalThis as unknown as { localStorage: object }).localStorage),
    );
    expect(stored).not.toContain('authorized');

    // What the Authorize dialog does when an API key is entered.
    await page.evaluate(() => {
      const { ui } = globalThis as unknown as UiWindow;
      const schema = ui.specSelectors.specJson().getIn(['components', 'securitySchemes', 'apiKey']).toJS();
      ui.authActions.authorize({ apiKey: { name: 'apiKey', schema, value: 'bk_example' } });
    });
    expect(await authorized()).toEqual(['apiKey']);
  });
});
