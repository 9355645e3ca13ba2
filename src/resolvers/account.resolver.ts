import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { LIMITS } from "../rate-limit/limits";
import { RateLimit } from "../rate-limit/rate-limit";
import { Auth, Public } from "../schema/directives";

/** Password and email life: reset, change, verification. */
@Resolver()
export class AccountResolver {
  @Mutation(() => Boolean, { description: "Emails a reset link. Answers true whether or not the address has an account." })
  @Public()
  @RateLimit(...LIMITS.requestPasswordReset)
  async requestPasswordReset(@Arg("email", () => String) email: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.passwords.requestReset(email, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Sets a new password with a reset token; every session of the account ends." })
  @Public()
  @RateLimit(...LIMITS.resetPassword)
  async resetPassword(
    @Arg("token", () => String) token: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.passwords.reset(token, newPassword, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Changes the password (current one required); other sessions end." })
  @Auth({ requires: "USER", allowRestricted: true })
  @RateLimit(...LIMITS.changeCredentials)
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.passwords.change(await ctx.auth.require(), currentPassword, newPassword, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Confirms the email address with the token from the verification link." })
  @Public()
  @RateLimit(...LIMITS.emailToken)
  async verifyEmail(@Arg("token", () => String) token: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.verification.verify(token, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Sends a new verification link (older links stop working)." })
  @Auth({ requires: "USER", allowRestricted: true })
  @RateLimit(...LIMITS.resendVerification)
  async resendVerificationEmail(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.verification.resend(await ctx.auth.require(), ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Sends a confirmation link to a new address; the change happens when it is used." })
  @Auth()
  @RateLimit(...LIMITS.changeCredentials)
  async requestEmailChange(
    @Arg("newEmail", () => String) newEmail: string,
    @Arg("password", () => String) password: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.verification.requestChange(await ctx.auth.require(), newEmail, password, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Completes an email change with the token sent to the new address." })
  @Public()
  @RateLimit(...LIMITS.emailToken)
  async confirmEmailChange(@Arg("token", () => String) token: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.verification.confirmChange(token, ctx.meta);
  }

  @Mutation(() => Boolean, { description: "Lifts a sign-in lockout." })
  @Auth({ permission: "users:write" })
  async unlockUser(@Arg("userId", () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.login.unlock(await ctx.auth.require(), userId, ctx.meta);
    return true;
  }
}
