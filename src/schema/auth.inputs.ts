import { Field, InputType } from "type-graphql";
import { TokenDelivery } from "./auth-payload.type";

@InputType()
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: "8 characters to 72 bytes." })
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
