import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { LIMITS } from "../rate-limit/limits";
import { RateLimit } from "../rate-limit/rate-limit";
import { MfaEnrollment, MfaRecoveryCodes } from "../schema/account-security.types";
import { Auth } from "../schema/directives";

/** TOTP enrolment, recovery codes, and turning MFA off. */
@Resolver()
export class MfaResolver {
  @Mutation(() => MfaEnrollment, { description: "Starts TOTP enrolment: returns a secret and its otpauth:// URI." })
  @Auth({ requires: "USER", allowRestricted: true })
  @RateLimit(...LIMITS.mfa)
  async beginMfaEnrollment(@Ctx() ctx: GraphQLContext): Promise<MfaEnrollment> {
    return ctx.services.mfa.begin(await ctx.auth.require(), ctx.meta);
  }

  @Mutation(() => MfaRecoveryCodes, { description: "Confirms enrolment with a current code; returns recovery codes once." })
  @Auth({ requires: "USER", allowRestricted: true })
  @RateLimit(...LIMITS.mfa)
  async confirmMfaEnrollment(@Arg("code", () => String) code: string, @Ctx() ctx: GraphQLContext): Promise<MfaRecoveryCodes> {
    return { recoveryCodes: await ctx.services.mfa.confirm(await ctx.auth.require(), code, ctx.meta) };
  }

  @Mutation(() => MfaRecoveryCodes, { description: "Replaces all recovery codes (a current code required)." })
  @Auth()
  @RateLimit(...LIMITS.mfa)
  async regenerateRecoveryCodes(@Arg("code", () => String) code: string, @Ctx() ctx: GraphQLContext): Promise<MfaRecoveryCodes> {
    return { recoveryCodes: await ctx.services.mfa.regenerateRecoveryCodes(await ctx.auth.require(), code, ctx.meta) };
  }

  @Mutation(() => Boolean, { description: "Turns MFA off; needs the password or a current code. Refused where a role requires MFA." })
  @Auth()
  @RateLimit(...LIMITS.mfa)
  async disableMfa(
    @Arg("password", () => String, { nullable: true }) password: string | null,
    @Arg("code", () => String, { nullable: true }) code: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return ctx.services.mfa.disable(await ctx.auth.require(), { password, code }, ctx.meta);
  }
}
