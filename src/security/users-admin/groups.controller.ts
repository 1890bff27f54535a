import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ETAG_RESPONSE_HEADER, ETagged, IfMatchGuarded } from '../../common/http/etag';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import {
  CreateGroupDto,
  GroupDetailDto,
  GroupDto,
  GroupPageDto,
  mapGroup,
  mapGroupDetail,
  UpdateGroupDto,
} from './dto/group.dto';
import { GroupAdminService } from './group-admin.service';

const UUID = new ParseUUIDPipe();

@ApiTags('groups')
@Controller({ path: 'groups', version: '1' })
export class GroupsController {
  constructor(private readonly groups: GroupAdminService) {}

  @Get()
  @Authenticated('groups:read')
  @ApiOperation({
    summary: 'List groups',
    description:
      'Sorted by name (case-insensitive), then id; no filters. Paginated with `limit` and `cursor` (the previous page\u2019s `nextCursor`).',
  })
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
    description:
      'One group with its permissions and members. Needs `groups:read`. The `ETag` is the one `PATCH` and `DELETE` take in `If-Match`; `If-None-Match` with it answers 304 while nothing changed (members included).',
  })
  @ApiOkResponse({ type: GroupDetailDto, headers: ETAG_RESPONSE_HEADER })
  @ETagged()
  @ApiProblems(400, 404)
  async get(@Param('id', UUID) id: string): Promise<GroupDetailDto> {
    const { group, members } = await this.groups.get(id);
    return mapGroupDetail(group, members);
  }

  @Patch(':id')
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Rename a group or change its permissions',
    description:
      'Takes effect on members\u2019 next request. With `If-Match` (the `ETag` of `GET /api/v1/groups/{id}`), a group changed since is refused with 412 and nothing changes. Answers the group with its members and its new `ETag`.',
  })
  @ApiOkResponse({ type: GroupDetailDto, headers: ETAG_RESPONSE_HEADER })
  @IfMatchGuarded()
  @ApiProblems(400, 404, 409)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: UpdateGroupDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<GroupDetailDto> {
    await this.groups.update(principal, id, body, ifMatch);
    return this.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('groups:manage')
  @ApiOperation({
    summary: 'Delete a group',
    description:
      'Deletes the group; its members lose the permissions it granted at their next request. Audited. Needs `groups:manage`. `If-Match` as for PATCH: a group changed since the caller read it is refused with 412.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @IfMatchGuarded()
  @ApiProblems(400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.remove(principal, id, ifMatch);
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
