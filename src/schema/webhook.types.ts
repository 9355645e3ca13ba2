import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "./page-info.type";

export const WebhookDeliveryStatusEnum = { PENDING: "PENDING", SUCCEEDED: "SUCCEEDED", FAILED: "FAILED" } as const;
registerEnumType(WebhookDeliveryStatusEnum, {
  name: "WebhookDeliveryStatus",
  description: "PENDING: waiting for its next attempt; SUCCEEDED: a 2xx answer came; FAILED: every allowed attempt failed (it can be re-sent).",
});
export type WebhookDeliveryStatus = keyof typeof WebhookDeliveryStatusEnum;

@ObjectType({ description: "A registered receiver of webhook events. Its signing secret is never shown again after creation or rotation." })
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [String], { description: "The event types it receives (see webhookEventTypes)." })
  eventTypes!: string[];

  @Field(() => Boolean, { description: "A disabled endpoint receives nothing; its pending deliveries wait until it is enabled again." })
  enabled!: boolean;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType()
export class WebhookEndpointSecretPayload {
  @Field(() => String, { description: "`whsec_…`: the signing secret, shown this once. Verify `webhook-signature` with it (README, Webhooks)." })
  secret!: string;

  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;
}

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => String, { description: "https://… (http only where the operator allows it); never a private or loopback address unless allowed." })
  url!: string;

  @Field(() => [String], { description: "One or more of webhookEventTypes." })
  eventTypes!: string[];

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Default true." })
  enabled?: boolean | null;
}

@InputType({ description: "Only the fields given change." })
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [String], { nullable: true })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;
}

@ObjectType({ description: "One attempt of a delivery." })
export class WebhookDeliveryAttempt {
  @Field(() => Int)
  attempt!: number;

  @Field(() => Date)
  at!: Date;

  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status, when it answered." })
  responseStatus!: number | null;

  @Field(() => String, { nullable: true, description: "Why it failed, when it did (no answer, refused target, non-2xx)." })
  error!: string | null;

  @Field(() => Int)
  durationMs!: number;
}

@ObjectType({ description: "One event sent (or to be sent) to one endpoint, with every attempt." })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: "The event's id: the `webhook-id` header, the same on every attempt and re-send." })
  eventId!: string;

  @Field(() => String)
  eventType!: string;

  @Field(() => ID)
  endpointId!: string;

  @Field(() => WebhookDeliveryStatusEnum)
  status!: WebhookDeliveryStatus;

  @Field(() => Int, { description: "Attempts made so far." })
  attemptCount!: number;

  @Field(() => Date, { nullable: true, description: "When the next attempt is due (PENDING only)." })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => [WebhookDeliveryAttempt])
  attempts!: WebhookDeliveryAttempt[];
}

@ObjectType()
export class WebhookDeliveryEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => WebhookDelivery)
  node!: WebhookDelivery;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges!: WebhookDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class WebhookDeliveryFilter {
  @Field(() => ID, { nullable: true })
  endpointId?: string | null;

  @Field(() => WebhookDeliveryStatusEnum, { nullable: true })
  status?: WebhookDeliveryStatus | null;

  @Field(() => String, { nullable: true })
  eventType?: string | null;
}
