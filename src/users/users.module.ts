import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Group } from './groups/group.entity';
import { GroupMember } from './groups/group-member.entity';
import { UserActivity } from './activity/user-activity.entity';
import { User } from './users/user.entity';
import { ActivityRepository } from './activity/activity.repository';
import { ActivityService } from './activity/activity.service';
import { GroupsRepository } from './groups/groups.repository';
import { GroupsService } from './groups/groups.service';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';

/**
 * Users, groups and activity as data and domain services. It knows no tokens and no permissions'
 * meaning: the security module decides who may do what and serves the HTTP API over these.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, Group, GroupMember, UserActivity])],
  providers: [UsersService, UsersRepository, GroupsService, GroupsRepository, ActivityService, ActivityRepository],
  exports: [UsersService, GroupsService, ActivityService],
})
export class UsersModule {}
