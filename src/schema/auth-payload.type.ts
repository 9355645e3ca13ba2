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

export enum RefreshCookieProblem {
  ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED",
  CROSS_SITE = "CROSS_SITE",
  INSECURE_CONNECTION = "INSECURE_CONNECTION",
}
registerEnumType(RefreshCookieProblem, {
  name: "RefreshCookieProblem",
  description:
    "ORIGIN_NOT_ALLOWED: the calling page's origin is not in PUBLIC_URL, APP_URL or CORS_ORIGINS. CROSS_SITE: the page is on another site (registrable domain or scheme) than this server, so the SameSite=Strict cookie is neither kept nor sent. INSECURE_CONNECTION: the cookie is Secure but this server was reached over plain http from a host other than localhost.",
});

@ObjectType({ description: "Why the browser that called will not keep or send back the refresh cookie just set, and what to change." })
export class RefreshCookieWarning {
  @Field(() => RefreshCookieProblem)
  problem!: RefreshCookieProblem;

  @Field(() => String)
  message!: string;
}

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

  @Field(() => RefreshCookieWarning, {
    nullable: true,
    description:
      "Set when the refresh token went into a cookie that the calling browser (judged from its Origin) will not keep or send back, so refreshing will fail; null otherwise, and always with BODY delivery. The same is logged once per origin.",
  })
  refreshCookieWarning!: RefreshCookieWarning | null;
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
