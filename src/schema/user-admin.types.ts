import { SessionRestriction } from "./account-security.types";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "./page-info.type";
import { User, UserStatus } from "./user.type";

export enum UserOrderField {
  CREATED_AT = "CREATED_AT",
  EMAIL = "EMAIL",
  LAST_LOGIN_AT = "LAST_LOGIN_AT",
}
registerEnumType(UserOrderField, { name: "UserOrderField" });

export enum OrderDirection {
  ASC = "ASC",
  DESC = "DESC",
}
registerEnumType(OrderDirection, { name: "OrderDirection" });

@InputType()
export class UserFilter {
  @Field(() => String, { nullable: true, description: "Part of the email, username or display name." })
  search?: string | null;

  @Field(() => String, { nullable: true, description: "Holds this role (granted directly)." })
  role?: string | null;

  @Field(() => UserStatus, { nullable: true })
  status?: UserStatus | null;

  @Field(() => Boolean, { nullable: true })
  verified?: boolean | null;

  @Field(() => Date, { nullable: true })
  createdAfter?: Date | null;

  @Field(() => Date, { nullable: true })
  createdBefore?: Date | null;
}

@InputType()
export class UserOrder {
  @Field(() => UserOrderField, { defaultValue: UserOrderField.CREATED_AT })
  field!: UserOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC })
  direction!: OrderDirection;
}

@ObjectType()
export class UserEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => User)
  node!: User;
}

@ObjectType()
export class UserConnection {
  @Field(() => [UserEdge])
  edges!: UserEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts every match (`totalCount`, resolved only when asked for: resolvers/user-admin.resolver.ts). */
  countAll!: () => Promise<number>;
}

@InputType()
export class ProfileInput {
  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => String, { nullable: true })
  username?: string | null;
}

@InputType()
export class UpdateUserInput extends ProfileInput {
  @Field(() => String, { nullable: true, description: "A new address; it becomes unverified." })
  email?: string | null;
}

@InputType()
export class CreateUserInput extends ProfileInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true, description: "Without one, the user is invited by email to set it." })
  password?: string | null;

  @Field(() => [String], { nullable: true, description: "Roles to grant (needs roles:write)." })
  roles?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: "Email an invitation link even when a password is given." })
  sendInvite?: boolean | null;
}

@ObjectType({ description: "Whether an access token is live right now, for other services." })
export class TokenStatus {
  @Field(() => Boolean)
  active!: boolean;

  @Field(() => ID, { nullable: true })
  subject!: string | null;

  @Field(() => ID, { nullable: true })
  sessionId!: string | null;

  @Field(() => [String])
  roles!: string[];

  @Field(() => [String])
  permissions!: string[];

  @Field(() => SessionRestriction, { nullable: true, description: "Set for restricted sessions: treat such a token as not usable." })
  restriction!: SessionRestriction | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
}
