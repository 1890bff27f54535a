import type { SwaggerCustomOptions } from '@nestjs/swagger';

/*
 * Swagger UI behaviour for administrators. The functions below run in the browser: Nest's
 * Swagger setup serialises them with `toString()`, so they must use nothing from this module's
 * scope (no imports, no helpers, no closures).
 */

/**
 * Signing in from the UI: when "Try it out" on POST /api/v1/auth/login (or /auth/mfa/verify,
 * /auth/refresh) answers an access token, the bearer scheme of "Authorize" is filled with it.
 */
function fillAuthorizeFromSignIn(res: { ok: boolean; url: string; body?: { accessToken?: unknown } }): unknown {
  try {
    const path = new URL(res.url, window.location.href).pathname;
    const token = res.body?.accessToken;
    if (res.ok && /\/api\/v\d+\/auth\/(login|mfa\/verify|refresh)$/.test(path) && typeof token === 'string') {
      // Through the live system's authActions (not ui.preauthorizeApiKey, which holds the system as
      // it was before the plugins below were registered), so oneSchemeAtATime applies.
      const ui = window.ui;
      const schema: unknown = ui.specSelectors.specJson().getIn(['components', 'securitySchemes', 'bearer']).toJS();
      ui.authActions.authorize({ bearer: { name: 'bearer', schema, value: token } });
    }
  } catch {
    // Never break the response display over the convenience.
  }
  return res;
}

interface AuthSystem {
  authActions: { logout(names: string[]): void };
  authSelectors: { authorized(): { has(name: string): boolean } | undefined };
}

/**
 * One scheme at a time: the API answers 400 to a request carrying both `Authorization` and
 * `X-API-Key`, so authorizing one scheme signs the other out.
 */
function oneSchemeAtATime(): unknown {
  return {
    statePlugins: {
      auth: {
        wrapActions: {
          authorize:
            (original: (payload: Record<string, unknown>) => unknown, system: AuthSystem) =>
            (payload: Record<string, unknown>) => {
              const chosen = Object.keys(payload ?? {});
              const held = system.authSelectors.authorized();
              const others = ['bearer', 'apiKey'].filter((name) => !chosen.includes(name) && held?.has(name));
              if (chosen.length > 0 && others.length > 0) system.authActions.logout(others);
              return original(payload);
            },
        },
      },
    },
  };
}

declare const window: {
  location: { href: string };
  ui: {
    specSelectors: { specJson(): { getIn(path: string[]): { toJS(): unknown } } };
    authActions: { authorize(payload: Record<string, unknown>): void };
  };
};

/**
 * Swagger UI options. Authorizations are not persisted: an API key or token pasted in the UI is
 * not written to the browser's localStorage, and a reload signs out.
 */
export function swaggerUiOptions(): SwaggerCustomOptions {
  return {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Bastion API',
    swaggerOptions: {
      persistAuthorization: false,
      displayRequestDuration: true,
      tryItOutEnabled: false,
      responseInterceptor: fillAuthorizeFromSignIn,
      plugins: [oneSchemeAtATime],
    },
  };
}
