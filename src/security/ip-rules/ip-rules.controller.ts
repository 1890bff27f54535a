import { Body, Controller, Delete, Get, HttpCode, Ip, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import { CreateIpRuleDto, IpRuleDto, IpRulePageDto, ListIpRulesQueryDto, mapIpRule } from './dto/ip-rule.dto';
import { IpRulesService } from './ip-rules.service';

@ApiTags('security')
@Controller({ path: 'security/ip-rules', version: '1' })
export class IpRulesController {
  constructor(private readonly rules: IpRulesService) {}

  @Get()
  @Authenticated('ip-rules:read')
  @ApiOperation({
    summary: 'List IP rules',
    description: 'Active rules, newest first; `includeExpired=true` for lapsed ones too.',
  })
  @ApiOkResponse({ type: IpRulePageDto })
  @ApiProblems(400)
  async list(@Query() query: ListIpRulesQueryDto): Promise<IpRulePageDto> {
    const page = await this.rules.list(query);
    return { items: page.items.map(mapIpRule), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated('ip-rules:manage')
  @ApiOperation({
    summary: 'Add an allow or deny rule',
    description:
      'Applies on this instance at once and on others within 5 seconds. The first allow rule turns every other address away; a rule that would turn away your own address is refused (409).',
  })
  @ApiCreatedResponse({ type: IpRuleDto })
  @ApiProblems(400, 409)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateIpRuleDto,
    @Ip() ip: string,
  ): Promise<IpRuleDto> {
    return mapIpRule(await this.rules.create({ ...body, createdBy: principal.userId, callerIp: ip }));
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('ip-rules:manage')
  @ApiOperation({
    summary: 'Remove a rule',
    description:
      'Also lifts a block made by threat detection. Removing the allow rule that admits your own address is refused (409).',
  })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiProblems(400, 404, 409)
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @Ip() ip: string): Promise<void> {
    await this.rules.remove(id, ip);
  }
}
