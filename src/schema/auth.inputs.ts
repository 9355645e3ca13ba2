import { Field, InputType } from "type-graphql";
import { TokenDelivery } from "./auth-payload.type";

@InputType()
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, {
    description:
      "At least PASSWORD_MIN_LENGTH characters (default 10) and at most 72 bytes; by default, common or predictable passwords and ones containing the email's name or the username are refused.",
  })
  password!: string;

  @Field(() => String, { nullable: true })
  username?: string | null;

  @Field(() => TokenDelivery, { nullable: true, defaultValue: TokenDelivery.BODY })
  tokenDelivery?: TokenDelivery;
}

@InputType()
export class LoginInput {
  @Field(() => String, { description: "Email or username." })
  identifier!: string;

  @Field(() => String)
  password!: string;

  @Field(() => TokenDelivery, { nullable: true, defaultValue: TokenDelivery.BODY })
  tokenDelivery?: TokenDelivery;
}
