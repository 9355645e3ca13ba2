import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { hasPermission, type Principal } from "../auth/principal";
import type { Clock } from "../clock";
import type { SecretBox } from "../crypto/secret-box";
import type { Db, Tx } from "../db/database";
import { ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { isUuid } from "../validation/ids";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from "./webhook-event-types";
import { systemResolver, type Resolver } from "./webhook-sender";
import { newWebhookSecret } from "./webhook-signature";
import { checkWebhookUrl, forbiddenAddressReason, ipLiteral, type TargetPolicy } from "./url-guard";
import * as repo from "./webhook.repository";
import type { DeliveryFilter, DeliveryView, EndpointRow } from "./webhook.repository";

export interface EndpointInput {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
}

export type EndpointWithSecret = { endpoint: EndpointRow; secret: string };

const MAX_DESCRIPTION = 200;
/** How long registration waits for the host name to resolve. */
const RESOLVE_DEADLINE_MS = 5_000;

/**
 * Webhook endpoints and their delivery log. Endpoints are platform-wide, so managing them
 * needs `webhooks:write` and reading them (and the log) `webhooks:read`. Every change is
 * audited in its transaction (the URL's host only: a URL may carry a token in its path).
 * The signing secret is returned by create and rotate only, and stored sealed.
 */
export function createWebhookService(deps: { db: Db; box: SecretBox; clock: Clock; policy: TargetPolicy; resolve?: Resolver }) {
  const { db, box, clock, policy } = deps;
  const resolve = deps.resolve ?? systemResolver;

  function need(principal: Principal, permission: "webhooks:read" | "webhooks:write"): void {
    if (!hasPermission(principal, permission)) throw new ForbiddenError(`This needs ${permission}`);
  }

  /** The URL's form, then every address its host resolves to now (delivery checks again each time). */
  async function checkUrl(raw: string): Promise<string> {
    const checked = checkWebhookUrl(raw.trim(), policy);
    if (!checked.ok) throw new UserInputError(`The webhook URL ${checked.reason}`, "url");
    if (ipLiteral(checked.url.hostname) !== undefined) return checked.url.toString();
    const addresses = await Promise.race([
      resolve(checked.url.hostname).catch(() => []),
      new Promise<[]>((done) => setTimeout(() => done([]), RESOLVE_DEADLINE_MS).unref()),
    ]);
    if (addresses.length === 0) throw new UserInputError("The webhook URL's host name does not resolve", "url");
    const reason = addresses.map((entry) => forbiddenAddressReason(entry.address, policy)).find((found) => found !== null);
    if (reason) throw new UserInputError(`The webhook URL's host resolves to ${reason}`, "url");
    return checked.url.toString();
  }

  function checkEventTypes(raw: string[]): string[] {
    const types = [...new Set(raw.map((type) => type.trim()))];
    const unknown = types.filter((type) => !isWebhookEventType(type));
    if (types.length === 0 || unknown.length > 0) {
      throw new UserInputError(`eventTypes must name one or more of: ${WEBHOOK_EVENT_TYPES.join(", ")}`, "eventTypes");
    }
    return types;
  }

  function checkDescription(raw: string | null | undefined): string | null {
    const text = raw?.trim() ?? "";
    if (text.length > MAX_DESCRIPTION) throw new UserInputError(`description must be at most ${MAX_DESCRIPTION} characters`, "description");
    return text || null;
  }

  async function audited(tx: Tx, principal: Principal, meta: RequestMeta, action: AuditAction, endpoint: EndpointRow, details: Record<string, unknown> = {}) {
    await recordAudit(tx, meta, {
      actor: { type: "user", id: principal.userId },
      action,
      outcome: "success",
      target: { type: "webhook_endpoint", id: endpoint.id },
      details: { host: new URL(endpoint.url).host, eventTypes: endpoint.eventTypes, enabled: endpoint.enabled, ...details },
      at: clock.now(),
    });
  }

  /** Runs `step` on the locked endpoint; an unknown id is NOT_FOUND. */
  async function onEndpoint<T>(id: string, step: (tx: Tx, row: EndpointRow) => Promise<T>): Promise<T> {
    if (!isUuid(id)) throw new NotFoundError("No such webhook endpoint");
    return db.transaction(async (tx) => {
      const row = await repo.findEndpoint(tx, id, { lock: true });
      if (!row) throw new NotFoundError("No such webhook endpoint");
      return step(tx, row);
    });
  }

  return {
    async listEndpoints(principal: Principal): Promise<EndpointRow[]> {
      need(principal, "webhooks:read");
      return repo.listEndpoints(db);
    },

    async getEndpoint(principal: Principal, id: string): Promise<EndpointRow> {
      need(principal, "webhooks:read");
      const row = isUuid(id) ? await repo.findEndpoint(db, id) : undefined;
      if (!row) throw new NotFoundError("No such webhook endpoint");
      return row;
    },

    async createEndpoint(principal: Principal, input: Required<Pick<EndpointInput, "url" | "eventTypes">> & EndpointInput, meta: RequestMeta): Promise<EndpointWithSecret> {
      need(principal, "webhooks:write");
      const eventTypes = checkEventTypes(input.eventTypes);
      const description = checkDescription(input.description);
      const url = await checkUrl(input.url);
      const secret = newWebhookSecret();
      const endpoint = await db.transaction(async (tx) => {
        const row = await repo.insertEndpoint(tx, {
          url,
          description,
          eventTypes,
          secretSealed: box.seal(secret),
          enabled: input.enabled ?? true,
          createdBy: principal.userId,
          now: clock.now(),
        });
        await audited(tx, principal, meta, AuditAction.WEBHOOK_ENDPOINT_CREATED, row);
        return row;
      });
      return { endpoint, secret };
    },

    async updateEndpoint(principal: Principal, id: string, input: EndpointInput, meta: RequestMeta): Promise<EndpointRow> {
      need(principal, "webhooks:write");
      const values: Partial<EndpointRow> = {};
      if (input.eventTypes !== undefined) values.eventTypes = checkEventTypes(input.eventTypes);
      if (input.description !== undefined) values.description = checkDescription(input.description);
      if (input.enabled !== undefined) values.enabled = input.enabled;
      if (input.url !== undefined) values.url = await checkUrl(input.url);
      return onEndpoint(id, async (tx, before) => {
        const row = await repo.updateEndpoint(tx, before.id, { ...values, updatedAt: clock.now() });
        await audited(tx, principal, meta, AuditAction.WEBHOOK_ENDPOINT_UPDATED, row, {
          before: { host: new URL(before.url).host, eventTypes: before.eventTypes, enabled: before.enabled },
        });
        return row;
      });
    },

    async deleteEndpoint(principal: Principal, id: string, meta: RequestMeta): Promise<true> {
      need(principal, "webhooks:write");
      await onEndpoint(id, async (tx, row) => {
        await repo.deleteEndpoint(tx, row.id);
        await audited(tx, principal, meta, AuditAction.WEBHOOK_ENDPOINT_DELETED, row);
      });
      return true;
    },

    /** A new secret at once: later attempts (retries of earlier events too) are signed with it. */
    async rotateSecret(principal: Principal, id: string, meta: RequestMeta): Promise<EndpointWithSecret> {
      need(principal, "webhooks:write");
      const secret = newWebhookSecret();
      const endpoint = await onEndpoint(id, async (tx, before) => {
        const row = await repo.updateEndpoint(tx, before.id, { secretSealed: box.seal(secret), updatedAt: clock.now() });
        await audited(tx, principal, meta, AuditAction.WEBHOOK_SECRET_ROTATED, row);
        return row;
      });
      return { endpoint, secret };
    },

    async deliveries(principal: Principal, filter: DeliveryFilter, page: { limit: number; after?: { createdAt: Date; id: string } }) {
      need(principal, "webhooks:read");
      if (filter.endpointId !== undefined && !isUuid(filter.endpointId)) throw new UserInputError("Not a valid endpoint id", "endpointId");
      return repo.listDeliveries(db, filter, page);
    },

    /** The attempts of deliveries the caller has already been allowed to list. */
    attemptsOf: (deliveryIds: readonly string[]) => repo.attemptsOf(db, deliveryIds),

    /** Queues the delivery's event again for its endpoint: a new delivery, the old one stays in the log. */
    async resendDelivery(principal: Principal, id: string, meta: RequestMeta): Promise<DeliveryView> {
      need(principal, "webhooks:write");
      const original = isUuid(id) ? await repo.findDelivery(db, id) : undefined;
      if (!original) throw new NotFoundError("No such webhook delivery");
      const created = await db.transaction(async (tx) => {
        const row = await repo.insertDelivery(tx, { eventId: original.eventId, endpointId: original.endpointId, now: clock.now() });
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.WEBHOOK_RESENT,
          outcome: "success",
          target: { type: "webhook_delivery", id: row.id },
          details: { of: original.id, eventId: original.eventId, endpointId: original.endpointId },
          at: clock.now(),
        });
        return row;
      });
      return { ...created, eventType: original.eventType };
    },

    /** Queues the event again for every enabled endpoint subscribed to its type now. */
    async resendEvent(principal: Principal, eventId: string, meta: RequestMeta): Promise<DeliveryView[]> {
      need(principal, "webhooks:write");
      const event = isUuid(eventId) ? await repo.findEvent(db, eventId) : undefined;
      if (!event) throw new NotFoundError("No such webhook event");
      return db.transaction(async (tx) => {
        const now = clock.now();
        const created: DeliveryView[] = [];
        for (const endpoint of await repo.subscribersOf(tx, event.type)) {
          created.push({ ...(await repo.insertDelivery(tx, { eventId: event.id, endpointId: endpoint.id, now })), eventType: event.type });
        }
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.WEBHOOK_RESENT,
          outcome: "success",
          target: { type: "webhook_event", id: event.id },
          details: { eventType: event.type, deliveries: created.map((row) => row.id) },
          at: now,
        });
        return created;
      });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
