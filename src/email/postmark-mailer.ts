import { Errors, ServerClient, type Models } from "postmark";
import { EmailDeliveryError, type EmailMessage, type Mailer } from "./mailer";

export interface PostmarkMailerOptions {
  serverToken: string;
  /** Where the API lives, e.g. `http://127.0.0.1:5123` for a local stand-in; default Postmark's own. */
  apiUrl?: string;
  from: string;
  /** Postmark message stream; default `outbound` (transactional). */
  messageStream?: string;
  /** Give up on one request after this long; default 30 s (the client's own default is 180 s). */
  timeoutSeconds?: number;
}

const DEFAULT_TIMEOUT_SECONDS = 30;

/**
 * The production mailer: one `POST /email` per message through the official client. Every
 * failure (Postmark's refusal, an HTTP error, the network) becomes an `EmailDeliveryError`
 * whose message holds only status and error code: Postmark's own messages can quote the
 * recipient, and the client's errors must never carry the token into a log.
 */
export function createPostmarkMailer(options: PostmarkMailerOptions): Mailer {
  if (options.serverToken.trim() === "") throw new Error("Postmark server token is empty");
  const client = new ServerClient(
    options.serverToken,
    postmarkClientOptions(options.apiUrl, options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
  );
  const messageStream = options.messageStream ?? "outbound";
  return {
    kind: "postmark",
    async send(message: EmailMessage): Promise<void> {
      let response: Models.MessageSendingResponse;
      try {
        response = await client.sendEmail({
          From: options.from,
          To: message.to,
          Subject: message.subject,
          TextBody: message.textBody,
          HtmlBody: message.htmlBody,
          Tag: message.tag,
          Metadata: { ...message.metadata },
          MessageStream: messageStream,
        });
      } catch (error) {
        throw toDeliveryError(error);
      }
      // A 2xx answer carries ErrorCode 0; anything else is a refusal all the same.
      if (response.ErrorCode !== 0) {
        throw new EmailDeliveryError(`Postmark refused the message (error code ${response.ErrorCode})`, {
          cause: response,
          postmarkErrorCode: response.ErrorCode,
        });
      }
    },
  };
}

/**
 * Client options for an API base URL. The client builds each request URL as
 * `${useHttps ? "https" : "http"}://${requestHost}${path}`, so `requestHost` may carry a
 * port (and a path prefix). Options are only set when given: the client spreads them over
 * its defaults, and an explicit `undefined` would replace the default host.
 */
export function postmarkClientOptions(apiUrl: string | undefined, timeoutSeconds: number): Models.ClientOptions.Configuration {
  if (apiUrl === undefined) return { timeout: timeoutSeconds };
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new Error("Postmark API URL is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("Postmark API URL must use http or https");
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new Error("Postmark API URL must not carry credentials, a query or a fragment");
  }
  const prefix = url.pathname.replace(/\/+$/, "");
  return { useHttps: url.protocol === "https:", requestHost: `${url.host}${prefix}`, timeout: timeoutSeconds };
}

/** HTTP statuses after which the same message may go through later. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

function toDeliveryError(error: unknown): EmailDeliveryError {
  if (error instanceof Errors.PostmarkError && error.statusCode > 0) {
    return new EmailDeliveryError(
      `Postmark refused the message (HTTP ${error.statusCode}, error code ${error.code})`,
      {
        cause: error,
        httpStatus: error.statusCode,
        postmarkErrorCode: error.code,
        retryable: RETRYABLE_STATUSES.has(error.statusCode),
      },
    );
  }
  // No HTTP answer at all: connection refused, DNS, TLS, timeout.
  return new EmailDeliveryError("Postmark could not be reached", { cause: error, retryable: true });
}
