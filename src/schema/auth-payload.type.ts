import { createUnionType, Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { SessionRestriction } from "./account-security.types";
import { User } from "./user.type";

export enum TokenDelivery {
  BODY = "BODY",
  COOKIE = "COOKIE",
}
registerEnumType(TokenDelivery, {
  name: "TokenDelivery",
  description:
    "Where the refresh token goes: BODY returns it in the payload (apps, services); COOKIE sets an httpOnly SameSite=Strict cookie on /graphql and returns null in the payload (browsers).",
});

@ObjectType({ description: "A signed-in session's credentials." })
export class AuthPayload {
  @Field(() => String, { description: "Short-lived JWT: send as `Authorization: Bearer <token>`." })
  accessToken!: string;

  @Field(() => Date)
  accessTokenExpiresAt!: Date;

  @Field(() => String, { nullable: true, description: "Opaque, single-use; null when delivered as a cookie." })
  refreshToken!: string | null;

  @Field(() => Date, { description: "When the refresh token lapses unless used (idle or absolute session end)." })
  refreshTokenExpiresAt!: Date;

  @Field(() => ID)
  sessionId!: string;

  @Field(() => SessionRestriction, {
    nullable: true,
    description: "Set when this session may only complete one step (see SessionRestriction); null otherwise.",
  })
  restriction!: SessionRestriction | null;

  @Field(() => User)
  user!: User;
}

@ObjectType({ description: "The password was right; a second factor is needed to finish signing in." })
export class MfaChallenge {
  @Field(() => String, { description: "Pass to the MFA completion mutation with a code." })
  challengeToken!: string;

  @Field(() => Date)
  expiresAt!: Date;
}

export const LoginResult = createUnionType({
  name: "LoginResult",
  description: "Signed in, or asked for a second factor.",
  types: () => [AuthPayload, MfaChallenge] as const,
  resolveType: (value) => ("challengeToken" in value ? MfaChallenge : AuthPayload),
});
