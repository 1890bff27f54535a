import {
  Controller,
  Delete,
  Get,
  type INestApplication,
  Post,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RouteRegistry } from '../../../../src/api/routes/route-registry';
import { Public } from '../../../../src/common/http/public.decorator';
import { RouteTable } from '../../../../src/common/http/route-table';
import { Authenticated } from '../../../../src/security/rbac/authenticated.decorator';

@Controller({ path: 'things', version: '1' })
class ThingsController {
  @Get()
  @Public()
  list(): void {}

  @Get(':id')
  @Authenticated('users:read')
  get(): void {}

  @Get(':id')
  @Version('2')
  @Authenticated('users:read', 'groups:read')
  getV2(): void {}

  @Post()
  create(): void {} // neither @Public() nor @Authenticated(): the guard denies it

  @Get(['a', 'b'])
  @Public()
  aliases(): void {}

  @Delete('x')
  @Version(['3', VERSION_NEUTRAL])
  @Public()
  twoVersions(): void {}
}

@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
class MetricsLikeController {
  @Get()
  @Public()
  scrape(): void {}
}

@Controller('plain')
@Authenticated()
class PlainController {
  @Get()
  read(): void {}
}

describe('RouteRegistry', () => {
  let app: INestApplication;
  let registry: RouteRegistry;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      controllers: [ThingsController, MetricsLikeController, PlainController],
      providers: [RouteRegistry, RouteTable],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.setGlobalPrefix('api', { exclude: ['metrics'] });
    app.enableVersioning({ type: VersioningType.URI, prefix: 'v', defaultVersion: '1' });
    await app.init();
    registry = app.get(RouteRegistry);
  });
  afterAll(() => app?.close());

  it('lists every route with its full path, version and access, sorted by path then method', () => {
    expect(registry.all().map((r) => [r.key, r.version, r.access, r.permissions.join('+'), r.handler])).toEqual([
      ['DELETE /api/things/x', null, 'public', '', 'ThingsController.twoVersions'],
      ['GET /api/v1/plain', '1', 'authenticated', '', 'PlainController.read'],
      ['GET /api/v1/things', '1', 'public', '', 'ThingsController.list'],
      ['POST /api/v1/things', '1', 'undeclared', '', 'ThingsController.create'],
      ['GET /api/v1/things/:id', '1', 'authenticated', 'users:read', 'ThingsController.get'],
      ['GET /api/v1/things/a', '1', 'public', '', 'ThingsController.aliases'],
      ['GET /api/v1/things/b', '1', 'public', '', 'ThingsController.aliases'],
      ['GET /api/v2/things/:id', '2', 'authenticated', 'users:read+groups:read', 'ThingsController.getV2'],
      ['DELETE /api/v3/things/x', '3', 'public', '', 'ThingsController.twoVersions'],
      ['GET /metrics', null, 'public', '', 'MetricsLikeController.scrape'],
    ]);
  });

  const req = (method: string, url: string, routePath?: string, baseUrl = '') =>
    ({
      method,
      originalUrl: url,
      url,
      baseUrl,
      route: routePath === undefined ? undefined : { path: routePath },
    }) as never;

  it("resolves a routed request by Express's matched template", () => {
    expect(registry.resolve(req('GET', '/api/v1/things/42?x=1', '/api/v1/things/:id'))?.key).toBe(
      'GET /api/v1/things/:id',
    );
    expect(registry.resolve(req('HEAD', '/api/v1/things/42', '/api/v1/things/:id'))?.key).toBe(
      'GET /api/v1/things/:id',
    );
  });

  it('resolves a request refused before routing by the template its path fits', () => {
    expect(registry.resolve(req('POST', '/api/v1/things'))?.key).toBe('POST /api/v1/things');
    expect(registry.resolve(req('GET', '/api/v2/things/7'))?.key).toBe('GET /api/v2/things/:id');
    expect(registry.resolve(req('GET', '/metrics'))?.key).toBe('GET /metrics');
  });

  it("leaves unknown paths, wrong methods and Nest's catch-all unresolved", () => {
    expect(registry.resolve(req('GET', '/api/v1/nothing-here', '*path', '/api'))).toBeUndefined();
    expect(registry.resolve(req('PUT', '/api/v1/things'))).toBeUndefined();
    expect(registry.resolve(req('GET', '/api/v9/things/1'))).toBeUndefined();
    expect(registry.resolve(req('GET', '/.env'))).toBeUndefined();
  });
});
