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
      (window as unknown as { ui: { preauthorizeApiKey(name: string, value: string): void } }).ui.preauthorizeApiKey(
        'bearer',
        token,
      );
    }
  } catch {
    // Never break the response display over the convenience.
  }
  return res;
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
            (
              original: (payload: Record<string, unknown>) => unknown,
              system: { authActions: { logout(names: string[]): void } },
            ) =>
            (payload: Record<string, unknown>) => {
              const chosen = Object.keys(payload ?? {});
              const others = ['bearer', 'apiKey'].filter((name) => !chosen.includes(name));
              if (chosen.length > 0 && others.length < 2) system.authActions.logout(others);
              return original(payload);
            },
        },
      },
    },
  };
}

declare const window: { location: { href: string } };

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
