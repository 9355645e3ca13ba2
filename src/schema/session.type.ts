import { Field, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "One sign-in: a device or browser holding a refresh token." })
export class Session {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { description: "Last sign-in or token refresh." })
  lastUsedAt!: Date;

  @Field(() => Date, { description: "When the session ends unless refreshed before then." })
  idleExpiresAt!: Date;

  @Field(() => Date, { description: "When the session ends regardless of use." })
  expiresAt!: Date;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Why it was revoked: logout, refresh_token_reuse, ..." })
  revokedReason!: string | null;

  @Field(() => Boolean, { description: "Whether this is the session making the request." })
  current!: boolean;

  @Field(() => Boolean, { description: "Not revoked and not expired." })
  active!: boolean;
}
