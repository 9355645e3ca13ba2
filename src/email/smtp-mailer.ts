import { createTransport } from "nodemailer";
import { EmailDeliveryError, type EmailMessage, type Mailer } from "./mailer";

/**
 * How the connection is protected: `starttls` upgrades a plain connection and refuses to go
 * on without it (so credentials and links never cross in the clear), `tls` speaks TLS from
 * the first byte (port 465), `none` sends in the clear (a relay on the same host or network).
 */
export type SmtpSecurity = "starttls" | "tls" | "none";

export interface SmtpMailerOptions {
  host: string;
  port: number;
  security: SmtpSecurity;
  /** Both or neither: AUTH is used only when given. */
  username?: string;
  password?: string;
  from: { name: string; address: string } | string;
  /** Deadline of connecting, of the server's greeting, and of any silence after it. */
  timeoutMs: number;
}

/**
 * The SMTP mailer (nodemailer): one connection per message, each step under `timeoutMs`.
 * Every failure becomes an `EmailDeliveryError` whose message holds only the SMTP reply
 * code or the kind of failure: a server's reply text can quote the recipient, and the
 * client's errors can carry the command that failed.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = createTransport({
    host: options.host,
    port: options.port,
    secure: options.security === "tls",
    requireTLS: options.security === "starttls",
    ignoreTLS: options.security === "none",
    auth: options.username !== undefined ? { user: options.username, pass: options.password ?? "" } : undefined,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
    logger: false,
  });
  return {
    kind: "smtp",
    async send(message: EmailMessage): Promise<void> {
      try {
        await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.textBody,
          html: message.htmlBody,
        });
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

function toDeliveryError(error: unknown): EmailDeliveryError {
  const { responseCode, code } = (error ?? {}) as { responseCode?: unknown; code?: unknown };
  if (typeof responseCode === "number") {
    // 4xx replies are temporary (mailbox busy, greylisting), 5xx permanent.
    return new EmailDeliveryError(`SMTP server refused the message (reply ${responseCode})`, {
      cause: error,
      retryable: responseCode >= 400 && responseCode < 500,
    });
  }
  const kind = typeof code === "string" && /^E[A-Z]+$/.test(code) ? ` (${code})` : "";
  return new EmailDeliveryError(`SMTP server could not be reached${kind}`, { cause: error, retryable: true });
}
