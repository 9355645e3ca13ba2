import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { AuthenticationError } from "../errors/errors";
import type { GraphQLContext } from "../graphql/context";
import { AuthPayload, LoginResult, TokenDelivery } from "../schema/auth-payload.type";
import { LoginInput, RegisterInput } from "../schema/auth.inputs";
import { Auth, Public } from "../schema/directives";
import { principalOf, toAuthPayload } from "./views";

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: "Create an account and sign in." })
  @Public()
  async register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    const result = await ctx.services.auth.register(input, ctx.meta);
    ctx.auth.establish(principalOf(result));
    return toAuthPayload(result, input.tokenDelivery ?? TokenDelivery.BODY, ctx.refreshCookie);
  }

  @Mutation(() => LoginResult, { description: "Sign in with email or username and password." })
  @Public()
  async login(
    @Arg("input", () => LoginInput) input: LoginInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof LoginResult> {
    const result = await ctx.services.auth.login(input, ctx.meta);
    ctx.auth.establish(principalOf(result));
    return toAuthPayload(result, input.tokenDelivery ?? TokenDelivery.BODY, ctx.refreshCookie);
  }

  @Mutation(() => AuthPayload, {
    description:
      "Exchange a refresh token for new credentials; the token is rotated. Without the argument, the refresh cookie is used (and the new token goes back as a cookie).",
  })
  @Public()
  async refresh(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Arg("tokenDelivery", () => TokenDelivery, { nullable: true }) tokenDelivery: TokenDelivery | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    const fromCookie = refreshToken ? undefined : ctx.refreshCookie.read();
    const token = refreshToken ?? fromCookie;
    if (!token) throw new AuthenticationError("No refresh token given");
    const delivery = tokenDelivery ?? (fromCookie ? TokenDelivery.COOKIE : TokenDelivery.BODY);
    const result = await ctx.services.auth.refresh(token, ctx.meta).catch((error: unknown) => {
      if (fromCookie) ctx.refreshCookie.clear();
      throw error;
    });
    ctx.auth.establish(principalOf(result));
    return toAuthPayload(result, delivery, ctx.refreshCookie);
  }

  @Mutation(() => Boolean, { description: "End the current session; its tokens stop working at once everywhere." })
  @Auth()
  async logout(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.auth.logout(await ctx.auth.require(), ctx.meta);
    ctx.refreshCookie.clear();
    return true;
  }
}
