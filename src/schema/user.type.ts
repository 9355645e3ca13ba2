import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { Auth } from "./directives";

export enum UserStatus {
  ACTIVE = "active",
  DISABLED = "disabled",
  LOCKED = "locked",
}
registerEnumType(UserStatus, { name: "UserStatus", description: "Whether an account may sign in." });

/**
 * An account as clients see it. Contact details, status and roles are visible to the account
 * itself and to holders of `users:read`; the directive on each field enforces that.
 */
@ObjectType({ description: "A person's account." })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  @Auth({ permission: "users:read", allowSelf: true })
  email!: string;

  @Field(() => String, { nullable: true })
  username!: string | null;

  @Field(() => String, { nullable: true })
  displayName!: string | null;

  @Field(() => UserStatus)
  @Auth({ permission: "users:read", allowSelf: true })
  status!: UserStatus;

  @Field(() => Boolean, { description: "Whether the email address has been verified." })
  @Auth({ permission: "users:read", allowSelf: true })
  emailVerified!: boolean;

  @Field(() => [String], { description: "Roles held, including inherited ones and USER." })
  @Auth({ permission: "users:read", allowSelf: true })
  roles!: string[];

  @Field(() => Boolean)
  @Auth({ permission: "users:read", allowSelf: true })
  mfaEnabled!: boolean;

  @Field(() => Date, { nullable: true, description: "Set while sign-in is locked after repeated failures." })
  @Auth({ permission: "users:read", allowSelf: true })
  lockedUntil!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  @Auth({ permission: "users:read", allowSelf: true })
  lastLoginAt!: Date | null;
}
