import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Db } from "../db/database";
import { ServiceUnavailableError } from "../errors/errors";
import type { Observe } from "../http/metrics";
import type { Logger } from "../logging/logger";
import type { RequestMeta } from "../request-meta";
import type { EmailMessage, Mailer } from "./mailer";

/**
 * Sends account email after the change it announces has committed. Delivery never decides
 * an outcome the client sees: a failure is logged and audited, and the caller carries on
 * (so no response can differ by whether a message went out).
 */
export interface Notifier {
  /** False in production with no transport: notices are dropped, link flows refuse. */
  readonly configured: boolean;
  send(message: EmailMessage, context: { userId?: string; meta: RequestMeta }): Promise<void>;
  /** A link into the web app carrying a one-time token: `${APP_URL}${path}?token=...`. */
  link(path: string, token: string): string;
  /**
   * For flows whose whole point is a message (reset, verification, email change, invitation):
   * throws SERVICE_UNAVAILABLE when no transport is configured. Called before any lookup, so
   * the answer is the same for every address.
   */
  requireTransport(): void;
}

export function createNotifier(deps: { mailer: Mailer; db: Db; logger: Logger; appUrl: string; observe?: Observe }): Notifier {
  const configured = deps.mailer.kind !== "none";
  return {
    configured,
    async send(message, { userId, meta }) {
      if (!configured) return;
      try {
        await deps.mailer.send(message);
      } catch (error) {
        deps.observe?.("email_delivery_failed");
        deps.logger.error({ err: error, requestId: meta.requestId, tag: message.tag, userId }, "email delivery failed");
        await recordAudit(deps.db, meta, {
          actor: { type: "system" },
          action: AuditAction.EMAIL_DELIVERY_FAILED,
          outcome: "failure",
          target: userId ? { type: "user", id: userId } : undefined,
          details: { tag: message.tag, mailer: deps.mailer.kind },
        }).catch((auditError: unknown) => deps.logger.error({ err: auditError }, "could not audit an email failure"));
      }
    },
    link(path, token) {
      return `${deps.appUrl}${path}?token=${encodeURIComponent(token)}`;
    },
    requireTransport() {
      if (!configured) throw new ServiceUnavailableError("Email cannot be sent: this server has no mail transport configured");
    },
  };
}
