import { Field, InputType, ObjectType, registerEnumType } from "type-graphql";
import { TokenDelivery } from "./auth-payload.type";

export enum SessionRestriction {
  MFA_ENROLLMENT = "mfa_enrollment",
  PASSWORD_CHANGE = "password_change",
  EMAIL_VERIFICATION = "email_verification",
}
registerEnumType(SessionRestriction, {
  name: "SessionRestriction",
  description:
    "What a restricted session must do before anything else works: enrol MFA (required for its role), change an expired password, or verify the email address.",
});

@ObjectType({ description: "A TOTP secret being enrolled: show the URI as a QR code, then confirm with a code." })
export class MfaEnrollment {
  @Field(() => String, { description: "Base32 secret, for manual entry." })
  secret!: string;

  @Field(() => String)
  otpauthUri!: string;
}

@ObjectType({ description: "Single-use recovery codes, shown once: store them somewhere safe." })
export class MfaRecoveryCodes {
  @Field(() => [String])
  recoveryCodes!: string[];
}

@InputType()
export class CompleteMfaLoginInput {
  @Field(() => String)
  challengeToken!: string;

  @Field(() => String, { nullable: true, description: "6-digit code from the authenticator app." })
  code?: string | null;

  @Field(() => String, { nullable: true, description: "One of the recovery codes, instead of a code." })
  recoveryCode?: string | null;

  @Field(() => TokenDelivery, { nullable: true, defaultValue: TokenDelivery.BODY })
  tokenDelivery?: TokenDelivery;
}
