/**
 * The one seam between services and the outside mail service. Services build an
 * `EmailMessage` (see `email-templates.ts`) and hand it to a `Mailer`; which mailer runs is
 * decided once at boot: Postmark, SMTP, the outbox (files on disk, the development default),
 * or none (production with no transport configured: see `unconfigured-mailer.ts`).
 */

/** The closed list of message kinds. Each becomes Postmark's `Tag`, so it shows in its reports. */
export const EMAIL_TAGS = [
  "verify-email",
  "password-reset",
  "password-changed",
  "account-locked",
  "new-sign-in",
  "email-change-verify",
  "email-change-requested",
  "email-changed",
  "invite",
  "spend-threshold",
] as const;

export type EmailTag = (typeof EMAIL_TAGS)[number];

export function isEmailTag(value: unknown): value is EmailTag {
  return typeof value === "string" && (EMAIL_TAGS as readonly string[]).includes(value);
}

/** One message to one recipient. Bodies may hold one-time links: never log them. */
export interface EmailMessage {
  to: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  tag: EmailTag;
  metadata?: Record<string, string>;
}

export interface Mailer {
  readonly kind: "outbox" | "postmark" | "smtp" | "none";
  /** Resolves once the message is accepted (written, or taken by Postmark); rejects with `EmailDeliveryError`. */
  send(message: EmailMessage): Promise<void>;
}

export interface EmailDeliveryErrorDetails {
  /** The underlying failure: logged by the caller, never shown to a client. */
  cause?: unknown;
  /** HTTP status of the mail service's answer; absent when it was never reached. */
  httpStatus?: number;
  /** Postmark's `ErrorCode` (10 bad token, 300 invalid request, 406 inactive recipient, ...). */
  postmarkErrorCode?: number;
  /** Whether sending the same message again later may succeed (outage, rate limit, network). */
  retryable?: boolean;
}

/**
 * A message could not be handed over. The message names only the kind of failure and its
 * codes: never the recipient, a body or a credential, so it is safe to log as is. The cause
 * is kept as a non-enumerable `internalCause` (like `ServiceUnavailableError`), so neither
 * JSON serialisation nor a log serialiser walking own properties picks it up by accident.
 */
export class EmailDeliveryError extends Error {
  override readonly name = "EmailDeliveryError";
  readonly httpStatus: number | undefined;
  readonly postmarkErrorCode: number | undefined;
  readonly retryable: boolean;
  declare readonly internalCause: unknown;

  constructor(message: string, details: EmailDeliveryErrorDetails = {}) {
    super(message);
    this.httpStatus = details.httpStatus;
    this.postmarkErrorCode = details.postmarkErrorCode;
    this.retryable = details.retryable ?? false;
    Object.defineProperty(this, "internalCause", { value: details.cause, enumerable: false });
  }
}
