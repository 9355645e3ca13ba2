import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";

export enum AgentStatus {
  ACTIVE = "active",
  SUSPENDED = "suspended",
}
registerEnumType(AgentStatus, { name: "AgentStatus" });

@ObjectType({ description: "An AI agent: a principal of its own kind, owned by a user." })
export class Agent {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => AgentStatus)
  status!: AgentStatus;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType({ description: "An agent API key, without its secret (shown once, at creation)." })
export class AgentApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The first characters, to tell keys apart." })
  prefix!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType()
export class AgentApiKeyPayload {
  @Field(() => String, { description: "The key, `aik_<id>.<secret>`: shown this once. Send as `Authorization: Bearer <key>`." })
  key!: string;

  @Field(() => AgentApiKey)
  apiKey!: AgentApiKey;
}

@InputType()
export class CreateAgentInput {
  @Field(() => String)
  name!: string;
}

@InputType()
export class CreateAgentApiKeyInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Date, { nullable: true })
  expiresAt?: Date | null;
}
