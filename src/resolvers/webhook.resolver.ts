import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { Auth } from "../schema/directives";
import {
  CreateWebhookEndpointInput,
  UpdateWebhookEndpointInput,
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookDeliveryFilter,
  WebhookEndpoint,
  WebhookEndpointSecretPayload,
} from "../schema/webhook.types";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/webhook-event-types";
import type { AttemptRow, DeliveryView, EndpointRow } from "../webhooks/webhook.repository";
import { encodeTimeCursor, timePage } from "./time-cursor";

const endpointView = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.eventTypes,
  enabled: row.enabled,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const deliveryView = (row: DeliveryView, attempts: readonly AttemptRow[]): WebhookDelivery => ({
  id: row.id,
  eventId: row.eventId,
  eventType: row.eventType,
  endpointId: row.endpointId,
  status: row.status,
  attemptCount: row.attempts,
  nextAttemptAt: row.status === "PENDING" ? row.nextAttemptAt : null,
  deliveredAt: row.deliveredAt,
  createdAt: row.createdAt,
  attempts: attempts.map((attempt) => ({
    attempt: attempt.attempt,
    at: attempt.at,
    responseStatus: attempt.responseStatus,
    error: attempt.error,
    durationMs: attempt.durationMs,
  })),
});

/** Webhook endpoints (webhooks:write to manage, webhooks:read to see) and their delivery log. */
@Resolver()
export class WebhookResolver {
  @Query(() => [String], { description: "Every event type an endpoint can subscribe to." })
  @Auth({ permission: "webhooks:read" })
  webhookEventTypes(): string[] {
    return [...WEBHOOK_EVENT_TYPES];
  }

  @Query(() => [WebhookEndpoint])
  @Auth({ permission: "webhooks:read" })
  async webhookEndpoints(@Ctx() ctx: GraphQLContext): Promise<WebhookEndpoint[]> {
    return (await ctx.services.webhooks.listEndpoints(await ctx.auth.require())).map(endpointView);
  }

  @Query(() => WebhookEndpoint)
  @Auth({ permission: "webhooks:read" })
  async webhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookEndpoint> {
    return endpointView(await ctx.services.webhooks.getEndpoint(await ctx.auth.require(), id));
  }

  @Query(() => WebhookDeliveryConnection, { description: "The delivery log, newest first; `first` is 50 by default, at most 200." })
  @Auth({ permission: "webhooks:read" })
  async webhookDeliveries(
    @Arg("filter", () => WebhookDeliveryFilter, { nullable: true }) filter: WebhookDeliveryFilter | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookDeliveryConnection> {
    const page = timePage(first, after);
    const result = await ctx.services.webhooks.deliveries(
      await ctx.auth.require(),
      { endpointId: filter?.endpointId ?? undefined, status: filter?.status ?? undefined, eventType: filter?.eventType ?? undefined },
      { limit: page.limit, after: page.after && { createdAt: page.after.at, id: page.after.id } },
    );
    const attempts = await ctx.services.webhooks.attemptsOf(result.rows.map((row) => row.id));
    const edges = result.rows.map((row) => ({ cursor: encodeTimeCursor(row.createdAt, row.id), node: deliveryView(row, attempts.get(row.id) ?? []) }));
    return { edges, pageInfo: { hasNextPage: result.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: result.total };
  }

  @Mutation(() => WebhookEndpointSecretPayload, { description: "Registers an endpoint; the signing secret is in this answer only. Audited as webhook.endpoint.created." })
  @Auth({ permission: "webhooks:write" })
  async createWebhookEndpoint(
    @Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookEndpointSecretPayload> {
    const created = await ctx.services.webhooks.createEndpoint(
      await ctx.auth.require(),
      { url: input.url, eventTypes: input.eventTypes, description: input.description, enabled: input.enabled ?? undefined },
      ctx.meta,
    );
    return { secret: created.secret, endpoint: endpointView(created.endpoint) };
  }

  @Mutation(() => WebhookEndpoint, { description: "Changes the URL, event types, description or enabled flag. Audited as webhook.endpoint.updated." })
  @Auth({ permission: "webhooks:write" })
  async updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    const row = await ctx.services.webhooks.updateEndpoint(
      await ctx.auth.require(),
      id,
      { url: input.url ?? undefined, eventTypes: input.eventTypes ?? undefined, description: input.description, enabled: input.enabled ?? undefined },
      ctx.meta,
    );
    return endpointView(row);
  }

  @Mutation(() => Boolean, { description: "Removes the endpoint with its delivery log. Audited as webhook.endpoint.deleted." })
  @Auth({ permission: "webhooks:write" })
  async deleteWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.webhooks.deleteEndpoint(await ctx.auth.require(), id, ctx.meta);
  }

  @Mutation(() => WebhookEndpointSecretPayload, { description: "Replaces the signing secret at once; the new one is in this answer only. Audited as webhook.endpoint.secret_rotated." })
  @Auth({ permission: "webhooks:write" })
  async rotateWebhookEndpointSecret(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookEndpointSecretPayload> {
    const rotated = await ctx.services.webhooks.rotateSecret(await ctx.auth.require(), id, ctx.meta);
    return { secret: rotated.secret, endpoint: endpointView(rotated.endpoint) };
  }

  @Mutation(() => WebhookDelivery, { description: "Sends a delivery's event to its endpoint again, as a new delivery (same webhook-id). Audited as webhook.delivery.resent." })
  @Auth({ permission: "webhooks:write" })
  async resendWebhookDelivery(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookDelivery> {
    return deliveryView(await ctx.services.webhooks.resendDelivery(await ctx.auth.require(), id, ctx.meta), []);
  }

  @Mutation(() => [WebhookDelivery], { description: "Sends an event again to every enabled endpoint subscribed to its type now. Audited as webhook.delivery.resent." })
  @Auth({ permission: "webhooks:write" })
  async resendWebhookEvent(@Arg("eventId", () => ID) eventId: string, @Ctx() ctx: GraphQLContext): Promise<WebhookDelivery[]> {
    return (await ctx.services.webhooks.resendEvent(await ctx.auth.require(), eventId, ctx.meta)).map((row) => deliveryView(row, []));
  }
}
