import { ApiProperty } from '@nestjs/swagger';

export class StatusClassCountsDto {
  @ApiProperty({ example: 120, description: 'Successful responses.' })
  '2xx'!: number;

  @ApiProperty({ example: 0, description: 'Redirects and Not Modified.' })
  '3xx'!: number;

  @ApiProperty({ example: 4, description: 'Client errors, including 401/403 from the guard and 400 from validation.' })
  '4xx'!: number;

  @ApiProperty({ example: 1, description: 'Server errors.' })
  '5xx'!: number;
}

export class LatencyPercentilesDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 3.21,
    description: 'Median, in milliseconds; null before the first request.',
  })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 12.5, description: '95th percentile, in milliseconds.' })
  p95!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 40.06, description: '99th percentile, in milliseconds.' })
  p99!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 81.337,
    description: 'Slowest request, in milliseconds (exact).',
  })
  max!: number | null;
}

export class RequestStatsDto {
  @ApiProperty({ example: 125, description: 'Requests answered since `since`.' })
  requests!: number;

  @ApiProperty({ type: StatusClassCountsDto, description: 'Responses by status class.' })
  statusClasses!: StatusClassCountsDto;

  @ApiProperty({
    type: LatencyPercentilesDto,
    description:
      'From receiving the request to finishing the response. Percentiles are within 0.8 % of the exact value (exact below 0.256 ms).',
  })
  latencyMs!: LatencyPercentilesDto;
}

export class RouteStatsDto extends RequestStatsDto {
  @ApiProperty({ example: 'GET' })
  method!: string;

  @ApiProperty({ example: '/api/v1/users/:id', description: 'Path template, prefix and version included.' })
  path!: string;

  @ApiProperty({ type: String, nullable: true, example: '1', description: 'URI version; null when version-neutral.' })
  version!: string | null;

  @ApiProperty({
    enum: ['public', 'authenticated', 'undeclared'],
    description:
      'public: no credentials needed; authenticated: a token or API key holding every permission listed; undeclared: denied to everyone.',
  })
  access!: 'public' | 'authenticated' | 'undeclared';

  @ApiProperty({ type: [String], example: ['users:read'], description: 'Permissions the caller must all hold.' })
  permissions!: string[];
}

export class LiveSubscriptionCountsDto {
  @ApiProperty({ example: 12 })
  prices!: number;

  @ApiProperty({ example: 1 })
  'security-events'!: number;

  @ApiProperty({ example: 2 })
  metrics!: number;

  @ApiProperty({ example: 2 })
  alerts!: number;

  @ApiProperty({ example: 40, description: 'portfolio:<id> subscriptions, all portfolios together.' })
  portfolio!: number;

  @ApiProperty({ example: 0, description: 'report:<id> subscriptions, all reports together.' })
  report!: number;
}

export class LiveStatsDto {
  @ApiProperty({
    example: 25,
    description: 'Open connections to the live gateway (Socket.IO `/live`) on this instance.',
  })
  connections!: number;

  @ApiProperty({ type: LiveSubscriptionCountsDto, description: 'Subscriptions of those connections, by channel kind.' })
  subscriptions!: LiveSubscriptionCountsDto;

  @ApiProperty({ example: 3, description: 'Handshakes refused since the start (bad credentials, IP rules, ...).' })
  refusedConnections!: number;

  @ApiProperty({
    example: 1,
    description: 'Connections closed by the server since the start (revocation, expiry, slow client, shutdown).',
  })
  forcedDisconnects!: number;
}

export class ApiStatsDto {
  @ApiProperty({
    format: 'date-time',
    example: '2026-11-28T12:00:00.000Z',
    description: 'When this instance started counting (its start).',
  })
  since!: string;

  @ApiProperty({ type: [RouteStatsDto], description: 'Every route of the API, sorted by path then method.' })
  routes!: RouteStatsDto[];

  @ApiProperty({
    type: RequestStatsDto,
    description: 'Requests that matched no route (unknown paths, wrong methods, Swagger UI assets), counted together.',
  })
  unmatched!: RequestStatsDto;

  @ApiProperty({ type: LiveStatsDto, description: 'The live gateway on this instance, now.' })
  live!: LiveStatsDto;
}
