import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { AuthenticationError, UserInputError } from "../errors/errors";
import type { GraphQLContext } from "../graphql/context";
import { LIMITS } from "../rate-limit/limits";
import { RateLimit } from "../rate-limit/rate-limit";
import { CompleteMfaLoginInput } from "../schema/account-security.types";
import { AuthPayload, LoginResult, MfaChallenge, TokenDelivery } from "../schema/auth-payload.type";
import { LoginInput, RegisterInput } from "../schema/auth.inputs";
import { Auth, Public } from "../schema/directives";
import type { AuthResult } from "../auth/session-issuer";
import { principalOf, toAuthPayload } from "./views";

/** The new session becomes this request's principal, and its tokens go where the client asked. */
function signedIn(ctx: GraphQLContext, result: AuthResult, delivery: TokenDelivery | undefined | null): AuthPayload {
  ctx.auth.establish(principalOf(result));
  return toAuthPayload(result, delivery ?? TokenDelivery.BODY, ctx.refreshCookie);
}

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: "Create an account and sign in; a verification link is emailed." })
  @Public()
  @RateLimit(...LIMITS.register)
  async register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return signedIn(ctx, await ctx.services.auth.register(input, ctx.meta), input.tokenDelivery);
  }

  @Mutation(() => LoginResult, {
    description: "Sign in with email or username and password. With MFA on, returns an MfaChallenge for completeMfaLogin.",
  })
  @Public()
  @RateLimit(...LIMITS.login)
  async login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext): Promise<typeof LoginResult> {
    const result = await ctx.services.login.login(input, ctx.meta);
    if ("challengeToken" in result) return Object.assign(new MfaChallenge(), result);
    return signedIn(ctx, result, input.tokenDelivery);
  }

  @Mutation(() => AuthPayload, { description: "Finish an MFA sign-in with a TOTP code or a recovery code." })
  @Public()
  @RateLimit(...LIMITS.completeMfaLogin)
  async completeMfaLogin(
    @Arg("input", () => CompleteMfaLoginInput) input: CompleteMfaLoginInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    return signedIn(ctx, await ctx.services.login.completeMfa(input, ctx.meta), input.tokenDelivery);
  }

  @Mutation(() => AuthPayload, {
    description:
      "Exchange a refresh token for new credentials; the token is rotated. Without the argument, the refresh cookie is used (and the new token goes back as a cookie).",
  })
  @Public()
  @RateLimit(...LIMITS.refresh)
  async refresh(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Arg("tokenDelivery", () => TokenDelivery, { nullable: true }) tokenDelivery: TokenDelivery | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    const fromCookie = refreshToken ? undefined : ctx.refreshCookie.read();
    const token = refreshToken ?? fromCookie;
    if (!token) throw new AuthenticationError("No refresh token given");
    // A token kept in the httpOnly cookie stays out of reach of scripts: its successor goes
    // back as a cookie too, never in the body.
    if (fromCookie && tokenDelivery === TokenDelivery.BODY) {
      throw new UserInputError("A refresh token from the cookie is renewed as a cookie: omit tokenDelivery or use COOKIE", "tokenDelivery");
    }
    const result = await ctx.services.auth.refresh(token, ctx.meta).catch((error: unknown) => {
      if (fromCookie) ctx.refreshCookie.clear();
      throw error;
    });
    return signedIn(ctx, result, tokenDelivery ?? (fromCookie ? TokenDelivery.COOKIE : TokenDelivery.BODY));
  }

  @Mutation(() => Boolean, { description: "End the current session; its tokens stop working at once everywhere." })
  @Auth({ requires: "USER", allowRestricted: true })
  async logout(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.auth.logout(await ctx.auth.require(), ctx.meta);
    ctx.refreshCookie.clear();
    return true;
  }
}
