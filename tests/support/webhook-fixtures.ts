import { CreateWebhookEndpointDocument, WebhookDeliveriesDocument, type WebhookDeliveryFilter, type WebhookDeliveryFieldsFragment } from "../generated/graphql";
import type { GraphQLClient } from "./graphql-client";

/** Env for servers whose webhooks go to a local receiver quickly: http and 127.0.0.1 allowed, short waits. */
export const FAST_WEBHOOKS = {
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
  WEBHOOK_POLL_INTERVAL: "100ms",
  WEBHOOK_RETRY_BASE: "100ms",
  WEBHOOK_RETRY_MAX: "400ms",
  WEBHOOK_TIMEOUT: "3s",
};

export async function createEndpoint(client: GraphQLClient, admin: { accessToken: string }, url: string, eventTypes: string[]) {
  return (await client.ok(CreateWebhookEndpointDocument, { input: { url, eventTypes } }, { token: admin.accessToken })).createWebhookEndpoint;
}

/** The delivery log as a webhooks:read holder sees it. */
export async function deliveries(client: GraphQLClient, reader: { accessToken: string }, filter: WebhookDeliveryFilter = {}): Promise<WebhookDeliveryFieldsFragment[]> {
  const data = await client.ok(WebhookDeliveriesDocument, { filter, first: 200 }, { token: reader.accessToken });
  return data.webhookDeliveries.edges.map((edge) => edge.node);
}

/** Polls the log until `done` holds (the worker runs on its own), or fails after `timeoutMs`. */
export async function untilDeliveries(
  client: GraphQLClient,
  reader: { accessToken: string },
  filter: WebhookDeliveryFilter,
  done: (rows: WebhookDeliveryFieldsFragment[]) => boolean,
  timeoutMs = 15_000,
): Promise<WebhookDeliveryFieldsFragment[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await deliveries(client, reader, filter);
    if (done(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`delivery log never matched: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
