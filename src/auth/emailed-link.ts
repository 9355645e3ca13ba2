import type { AuditAction } from "../audit/audit-actions";
import { recordAudit, type AuditActor } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { LinkEmailInput } from "../email/email-templates";
import type { EmailMessage } from "../email/mailer";
import type { Notifier } from "../email/notifier";
import type { RequestMeta } from "../request-meta";
import { issueOneTimeToken, type OneTimeTokenPurpose } from "./one-time-tokens";

/**
 * Issues a single-use token (voiding older ones of its purpose) with its audit row in one
 * transaction, then mails a link carrying it: verification, reset and email-change links.
 */
export async function mailOneTimeLink(
  deps: { db: Db; notifier: Notifier; clock: Clock },
  input: {
    userId: string;
    to: string;
    purpose: OneTimeTokenPurpose;
    ttlMs: number;
    path: string;
    template: (message: LinkEmailInput) => EmailMessage;
    audit: { actor: AuditActor; action: AuditAction; details?: Record<string, unknown> };
    meta: RequestMeta;
  },
): Promise<void> {
  // Callers check first (before any lookup); this keeps a link from ever being issued unsent.
  deps.notifier.requireTransport();
  const issued = await deps.db.transaction(async (tx) => {
    const token = await issueOneTimeToken(tx, {
      userId: input.userId,
      purpose: input.purpose,
      email: input.to,
      now: deps.clock.now(),
      ttlMs: input.ttlMs,
      replaceOlder: true,
    });
    await recordAudit(tx, input.meta, {
      actor: input.audit.actor,
      action: input.audit.action,
      outcome: "success",
      target: { type: "user", id: input.userId },
      details: { ...input.audit.details, tokenId: token.id },
    });
    return token;
  });
  const link = deps.notifier.link(input.path, issued.token);
  await deps.notifier.send(input.template({ to: input.to, link, expiresAt: issued.expiresAt }), {
    userId: input.userId,
    meta: input.meta,
  });
}
