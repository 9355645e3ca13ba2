import { EmailDeliveryError, type Mailer } from "./mailer";

/**
 * Production with no transport configured. Writing files nobody reads would make a reset or
 * verification look sent when it never arrives; instead the flows whose point is a message
 * refuse up front (see `Notifier.requireTransport`), and notices are dropped (the startup log
 * says so once).
 */
export function createUnconfiguredMailer(): Mailer {
  return {
    kind: "none",
    async send(): Promise<void> {
      throw new EmailDeliveryError("No mail transport is configured");
    },
  };
}
