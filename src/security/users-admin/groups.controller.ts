import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import { CreateGroupDto, GroupDetailDto, GroupDto, GroupPageDto, mapGroup, UpdateGroupDto } from './dto/group.dto';
import { mapUser } from './dto/user.dto';
import { GroupAdminService } from './group-admin.service';

const UUID = new ParseUUIDPipe();

@ApiTags('groups')
@Controller({ path: 'groups', version: '1' })
export class GroupsController {
  constructor(private readonly groups: GroupAdminService) {}

  @Get()
  @Authenticated('groups:read')
  @ApiOperation({ summary: 'List groups', description: 'By name.' })
  @ApiOkResponse({ type: GroupPageDto })
  @ApiProblems(400)
  async list(@Query() query: PageQueryDto): Promise<GroupPageDto> {
    const page = await this.groups.list(query);
    return { items: page.items.map((g) => mapGroup(g, g.memberCount)), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated('groups:manage')
  @ApiOperation({ summary: 'Create a group', description: 'It may grant only permissions the caller holds.' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiProblems(400, 409)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateGroupDto): Promise<GroupDto> {
    return mapGroup(await this.groups.create(principal, body), 0);
  }

  @Get(':id')
  @Authenticated('groups:read')
  @ApiOperation({
    summary: 'Get a group with its members',
    description: 'One group with its permissions and members. Needs `groups:read`.',
  })
  @ApiOkResponse({ type: GroupDetailDto })
  @ApiProblems(400, 404)
  async get(@Param('id', UUID) id: string): Promise<GroupDetailDto> {
    const { group, members } = await this.groups.get(id);
    return { ...mapGroup(group, members.length), members: members.map(mapUser) };
  }

  @Patch(':id')
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Rename a group or change its permissions',
    description: 'Takes effect on members\u2019 next request.',
  })
  @ApiOkResponse({ type: GroupDto })
  @ApiProblems(400, 404, 409)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: UpdateGroupDto,
  ): Promise<GroupDto> {
    await this.groups.update(principal, id, body);
    return this.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Delete a group',
    description:
      'Deletes the group; its members lose the permissions it granted at their next request. Audited. Needs `groups:manage`.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, 404)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', UUID) id: string): Promise<void> {
    await this.groups.remove(principal, id);
  }

  @Put(':id/members/:userId')
  @HttpCode(204)
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Add a member (idempotent)',
    description: 'Adds the user to the group; adding a member twice changes nothing. Audited. Needs `groups:manage`.',
  })
  @ApiNoContentResponse({ description: 'The user is a member.' })
  @ApiProblems(400, 404)
  async addMember(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Param('userId', UUID) userId: string,
  ): Promise<void> {
    await this.groups.addMember(principal, id, userId);
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Remove a member',
    description:
      "Removes the user from the group; the permissions it granted stop applying at the user's next request. Audited. Needs `groups:manage`.",
  })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiProblems(400, 404)
  async removeMember(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Param('userId', UUID) userId: string,
  ): Promise<void> {
    await this.groups.removeMember(principal, id, userId);
  }
}
