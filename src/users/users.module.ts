import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Group } from './entities/group.entity';
import { GroupMember } from './entities/group-member.entity';
import { UserActivity } from './entities/user-activity.entity';
import { User } from './entities/user.entity';
import { ActivityService } from './services/activity.service';
import { GroupsService } from './services/groups.service';
import { UsersService } from './services/users.service';

/**
 * Users, groups and activity as data and domain services. It knows no tokens and no permissions'
 * meaning: the security module decides who may do what and serves the HTTP API over these.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, Group, GroupMember, UserActivity])],
  providers: [UsersService, GroupsService, ActivityService],
  exports: [UsersService, GroupsService, ActivityService],
})
export class UsersModule {}
