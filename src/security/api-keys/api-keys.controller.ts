import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal, SessionOnly } from '../rbac/authenticated.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto, ListApiKeysQueryDto, mapApiKey } from './dto/api-key.dto';

@ApiTags('api-keys')
@SessionOnly()
@Controller({ path: 'api-keys', version: '1' })
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary: 'List API keys',
    description: 'Your own; `all=true` or another `ownerId` needs api-keys:read-all. Never shows secrets.',
  })
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiProblems(400)
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListApiKeysQueryDto): Promise<ApiKeyPageDto> {
    const page = await this.keys.list(principal, query);
    return { items: page.items.map(mapApiKey), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated()
  @ApiOperation({
    summary: 'Create an API key for yourself',
    description:
      'Needs your password (`password`), or a current MFA code (`code`) if MFA is on: a wrong one answers 400 and counts towards the lockout like a failed sign-in. Scopes must be a subset of your permissions; the key can do only what its scopes and your current permissions both allow, and grants, in user and group administration, only what its scopes cover. It expires at most API_KEY_MAX_TTL_DAYS (365) ahead, by default at that limit. The secret (`bst_…`) is in this response only. Audited (`api_key.created`). Needs a signed-in session: API keys get 403 SESSION_REQUIRED on every /api-keys route.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiProblems(400)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const { key, secret } = await this.keys.create(principal, body);
    return { ...mapApiKey(key), secret };
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated()
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Your own, or anyone\u2019s with api-keys:revoke-any. It stops working at once.',
  })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblems(400, 404)
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.keys.revoke(principal, id);
  }
}
