import { eq } from "drizzle-orm";
import type { Db } from "../db/database";
import { users } from "../db/schema";
import { spendThresholdCrossed } from "../email/email-templates";
import type { Notifier } from "../email/notifier";
import type { Logger } from "../logging/logger";
import { SYSTEM_REQUEST } from "../request-meta";
import type { ActionCrossing } from "./decision-statements";

/**
 * Tells people about cap thresholds crossed for the first time in their window (the
 * crossing row was inserted in the decision's transaction, so each is told once per cap and
 * window however many processes decide). The owner of the agent whose action crossed it
 * gets an email for caps that count their own spend (per AGENT, OWNER or RUN); a GLOBAL cap
 * is everyone's and goes to webhooks only. Runs after the commit and never fails a decision:
 * a delivery failure is logged and audited by the notifier.
 */
export function createSpendAlerts(deps: { db: Db; notifier: Notifier; logger: Logger }) {
  async function tell(crossing: ActionCrossing): Promise<void> {
    if (crossing.per === "GLOBAL") return;
    const [owner] = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, crossing.ownerId));
    if (!owner) return;
    await deps.notifier.send(spendThresholdCrossed({ to: owner.email, ...crossing }), { userId: crossing.ownerId, meta: SYSTEM_REQUEST });
  }

  return {
    crossed(crossings: readonly ActionCrossing[]): void {
      for (const crossing of crossings) {
        tell(crossing).catch((error: unknown) => deps.logger.error({ err: error, capId: crossing.capId }, "could not send a spend threshold alert"));
      }
    },
  };
}
