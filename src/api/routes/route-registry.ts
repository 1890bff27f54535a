import { Injectable, RequestMethod, VERSION_NEUTRAL, type OnModuleInit } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';
import type { Request } from 'express';
import { OPTIONAL_AUTH } from '../../common/http/optional-auth.decorator';
import { IS_PUBLIC } from '../../common/http/public.decorator';
import { ALLOW_EXPIRED_PASSWORD, ALLOW_MFA_ENROLMENT } from '../../security/auth/auth.guard';
import { RATE_LIMIT_CLASS } from '../../security/rate-limit/rate-limit.decorator';
import type { Permission } from '../../security/rbac/permissions';
import { REQUIRED_PERMISSIONS, SESSION_ONLY } from '../../security/rbac/authenticated.decorator';
import { RouteTable } from '../../common/http/route-table';

/**
 * Who may call a route, as the global guard decides: `public` (`@Public()`), `authenticated`
 * (`@Authenticated(...)`, holding every permission listed), or `undeclared` (neither: denied).
 */
export type RouteAccess = 'public' | 'authenticated' | 'undeclared';

/**
 * What a route lets through that the global guard would otherwise refuse: `optional-auth`
 * (`@OptionalAuthentication()` on a public route: credentials read when sent), `expired-password`
 * (`@AllowExpiredPassword()`), `mfa-enrolment` (`@AllowMfaEnrolment()`).
 */
export type GuardOptOut = 'optional-auth' | 'expired-password' | 'mfa-enrolment';

/** `auth`: the strict per-IP, per-route limit of credential endpoints (`@StrictRateLimit()`); else `standard`. */
export type RateLimitClass = 'auth' | 'standard';

/** One route of the application as it is served. */
export interface RouteDescriptor {
  /** `GET /api/v1/users/:id`: unique per route; the key of its statistics. */
  readonly key: string;
  /** Upper case: `GET`, `POST`, ...; `ALL` for `@All()`. */
  readonly method: string;
  /** The full path template as registered with Express, prefix and version included. */
  readonly path: string;
  /** URI version (`'1'`, `'2'`), or null for a version-neutral route such as `/metrics`. */
  readonly version: string | null;
  readonly access: RouteAccess;
  /** Permissions the caller must all hold; empty for public routes and "any authenticated caller". */
  readonly permissions: readonly Permission[];
  /** `@SessionOnly()`: a signed-in person only, never an API key. */
  readonly sessionOnly: boolean;
  /** `UsersController.get`: where the route is implemented. */
  readonly handler: string;
  /** The guard's checks this route opts out of, in a fixed order; empty for most routes. */
  readonly guardOptOuts: readonly GuardOptOut[];
  readonly rateLimitClass: RateLimitClass;
}

type Version = string | typeof VERSION_NEUTRAL;

/**
 * Every route of the application, built once at start-up from the metadata Nest routes by: the
 * controllers found by DiscoveryService, their handlers' path, method and version, and the
 * `@Public()` / `@Authenticated()` declarations the global guard reads. Paths are composed by
 * Nest's own RoutePathFactory with the application's global prefix, its exclusions and URI
 * versioning, so they are exactly the templates Express matches (`req.route.path`).
 *
 * It also resolves a request to its route, for the API statistics and the Prometheus labels.
 */
@Injectable()
export class RouteRegistry implements OnModuleInit {
  private list: readonly RouteDescriptor[] = [];
  private readonly byKey = new Map<string, RouteDescriptor>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly appConfig: ApplicationConfig,
    private readonly modules: ModulesContainer,
    private readonly table: RouteTable,
  ) {}

  onModuleInit(): void {
    // The global prefix and versioning are set on the app before init (app.setup.ts).
    this.build();
  }

  /** Every route, sorted by path then method. */
  all(): readonly RouteDescriptor[] {
    return this.list;
  }

  get(key: string): RouteDescriptor | undefined {
    return this.byKey.get(key);
  }

  /**
   * The route that served (or would have served) a request: Express's matched route when there
   * is one, else the template its path fits (for requests refused before routing, such as a
   * malformed JSON body). Undefined for paths no route declares: callers count those together,
   * never by their raw URL.
   */
  resolve(req: Pick<Request, 'method' | 'originalUrl' | 'url' | 'baseUrl' | 'route'>): RouteDescriptor | undefined {
    const method = req.method.toUpperCase();
    const routed = (req.route as { path?: unknown } | undefined)?.path;
    const template =
      typeof routed === 'string'
        ? (req.baseUrl ?? '') + routed
        : this.table.routeFor(method, (req.originalUrl ?? req.url).split('?')[0]);
    if (template === undefined) return undefined;
    return (
      this.byKey.get(`${method} ${template}`) ??
      (method === 'HEAD' ? this.byKey.get(`GET ${template}`) : undefined) ??
      this.byKey.get(`ALL ${template}`)
    );
  }

  private build(): void {
    const paths = new RoutePathFactory(this.appConfig);
    const versioning = this.appConfig.getVersioning();
    const globalPrefix = this.appConfig.getGlobalPrefix();
    const routes: RouteDescriptor[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller || !wrapper.instance) continue;
      const modulePath = this.modulePathOf(wrapper.host?.metatype);
      const controllerVersion = versioning
        ? ((Reflect.getMetadata(VERSION_METADATA, controller) as Version | Version[] | undefined) ??
          versioning.defaultVersion)
        : undefined;
      const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
      for (const ctrlPath of asArray<string>(Reflect.getMetadata(PATH_METADATA, controller) as string | string[])) {
        for (const name of this.scanner.getAllMethodNames(prototype)) {
          const handler = prototype[name] as object;
          const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
          if (methodPaths === undefined) continue;
          const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
          const methodVersion = Reflect.getMetadata(VERSION_METADATA, handler) as Version | Version[] | undefined;
          const access = this.accessOf(handler, controller);
          const guard = this.guardOf(handler, controller);
          for (const methodPath of asArray(methodPaths)) {
            // Compose each version separately so every path knows the version it serves.
            const versions: (Version | undefined)[] = asArray(methodVersion ?? controllerVersion);
            for (const version of versions.length > 0 ? versions : [undefined]) {
              const composed = paths.create(
                {
                  ctrlPath: addLeadingSlash(ctrlPath),
                  methodPath: addLeadingSlash(methodPath),
                  modulePath,
                  globalPrefix,
                  versioningOptions: versioning,
                  methodVersion: version,
                  controllerVersion: undefined,
                },
                requestMethod,
              );
              for (const path of composed) {
                const method = RequestMethod[requestMethod] ?? String(requestMethod);
                routes.push({
                  key: `${method} ${path}`,
                  method,
                  path,
                  version:
                    version === undefined || version === VERSION_NEUTRAL || versioning === undefined
                      ? null
                      : String(version),
                  ...access,
                  ...guard,
                  handler: `${controller.name}.${name}`,
                });
              }
            }
          }
        }
      }
    }
    this.byKey.clear();
    for (const route of routes) {
      if (this.byKey.has(route.key)) continue; // Express serves the first registration only
      this.byKey.set(route.key, route);
    }
    this.list = Object.freeze(
      [...this.byKey.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method)),
    );
  }

  private accessOf(
    handler: object,
    controller: object,
  ): Pick<RouteDescriptor, 'access' | 'permissions' | 'sessionOnly'> {
    const targets = [handler as never, controller as never];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets))
      return { access: 'public', permissions: [], sessionOnly: false };
    const required = this.reflector.getAllAndOverride<Permission[] | undefined>(REQUIRED_PERMISSIONS, targets);
    if (required === undefined) return { access: 'undeclared', permissions: [], sessionOnly: false };
    return {
      access: 'authenticated',
      permissions: Object.freeze([...required]),
      sessionOnly: this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, targets) === true,
    };
  }

  /** The guard's opt-outs and rate-limit class, read as the global guard reads them. */
  private guardOf(handler: object, controller: object): Pick<RouteDescriptor, 'guardOptOuts' | 'rateLimitClass'> {
    const targets = [handler as never, controller as never];
    const optOuts: GuardOptOut[] = [];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      if (this.reflector.getAllAndOverride<boolean>(OPTIONAL_AUTH, targets)) optOuts.push('optional-auth');
    }
    if (this.reflector.get<boolean>(ALLOW_EXPIRED_PASSWORD, handler as never)) optOuts.push('expired-password');
    if (this.reflector.get<boolean>(ALLOW_MFA_ENROLMENT, handler as never)) optOuts.push('mfa-enrolment');
    const rateLimitClass =
      this.reflector.get<string>(RATE_LIMIT_CLASS, handler as never) === 'auth' ? 'auth' : 'standard';
    return { guardOptOuts: Object.freeze(optOuts), rateLimitClass };
  }

  /** The `RouterModule` path of a controller's module, if any (as Nest's RoutesResolver reads it). */
  private modulePathOf(moduleType: unknown): string | undefined {
    if (typeof moduleType !== 'function') return undefined;
    return ((Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, moduleType) as string | undefined) ??
      Reflect.getMetadata(MODULE_PATH, moduleType)) as string | undefined;
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** As Nest's own helper: an empty path stays empty, so it adds no segment. */
const addLeadingSlash = (path: string): string =>
  !path ? '' : path.startsWith('/') || path.startsWith('{/') ? path : `/${path}`;
