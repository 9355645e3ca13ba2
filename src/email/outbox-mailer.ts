import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../clock";
import type { Logger } from "../logging/logger";
import { EmailDeliveryError, isEmailTag, type EmailMessage, type EmailTag, type Mailer } from "./mailer";

/**
 * One outbox file: exactly the body Postmark's `POST /email` would receive, so switching
 * to Postmark changes where a message goes, not what it says.
 */
export interface OutboxMessage {
  From: string;
  To: string;
  Subject: string;
  TextBody: string;
  HtmlBody: string;
  Tag: EmailTag;
  Metadata: Record<string, string>;
  MessageStream: "outbound";
}

export interface OutboxMailerOptions {
  directory: string;
  from: string;
  logger: Logger;
  clock: Clock;
}

/** Finished messages only: temporary files start with a dot and end in `.tmp`. */
const OUTBOX_FILE = /^\d{4}-\d{2}-\d{2}T[\d.-]+Z-[0-9a-f]{16}-[0-9a-f]+\.json$/;

/**
 * The embedded-mode mailer: each message becomes one JSON file in `directory` (created on
 * demand) and one log line. Files appear whole or not at all (written under a temporary
 * name, then renamed within the same directory), so a reader polling the folder never parses
 * half a message. The log line names recipient, subject, tag and file, never the bodies:
 * they carry one-time links.
 */
export function createOutboxMailer(options: OutboxMailerOptions): Mailer {
  const { directory, from, logger, clock } = options;
  return {
    kind: "outbox",
    async send(message: EmailMessage): Promise<void> {
      const file = outboxFileName(clock.now());
      const body: OutboxMessage = {
        From: from,
        To: message.to,
        Subject: message.subject,
        TextBody: message.textBody,
        HtmlBody: message.htmlBody,
        Tag: message.tag,
        Metadata: { ...message.metadata },
        MessageStream: "outbound",
      };
      try {
        await writeAtomically(directory, file, `${JSON.stringify(body, null, 2)}\n`);
      } catch (error) {
        throw new EmailDeliveryError("Could not write the message to the outbox", { cause: error, retryable: true });
      }
      logger.info({ to: message.to, subject: message.subject, tag: message.tag, file }, "email written to outbox");
    },
  };
}

/**
 * `<ISO time, ':' as '-'>-<monotonic>-<random>.json`. Names sort by the clock's time; the
 * monotonic part (the process's high-resolution timer) keeps messages written within one
 * millisecond, or under a frozen test clock, in the order they were sent; the random part
 * keeps concurrent writers apart.
 */
function outboxFileName(at: Date): string {
  const stamp = at.toISOString().replaceAll(":", "-");
  const sequence = process.hrtime.bigint().toString(16).padStart(16, "0");
  return `${stamp}-${sequence}-${crypto.randomBytes(6).toString("hex")}.json`;
}

async function writeAtomically(directory: string, file: string, text: string): Promise<void> {
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = path.join(directory, `.${file}.tmp`);
  try {
    await fs.writeFile(temporary, text, { encoding: "utf8", flag: "wx", mode: 0o600 });
    await fs.rename(temporary, path.join(directory, file));
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Every finished message in `directory`, oldest first; an empty list when the folder does
 * not exist yet. For tests and tooling (reading a verification link without a mail server).
 */
export async function readOutbox(directory: string): Promise<OutboxMessage[]> {
  let names: string[];
  try {
    names = await fs.readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const files = names.filter((name) => OUTBOX_FILE.test(name)).sort();
  return Promise.all(
    files.map(async (name) => parseOutboxMessage(await fs.readFile(path.join(directory, name), "utf8"), name)),
  );
}

const STRING_FIELDS = ["From", "To", "Subject", "TextBody", "HtmlBody"] as const;

function parseOutboxMessage(text: string, file: string): OutboxMessage {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) throw new Error(`outbox file ${file} is not a JSON object`);
  const record = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== "string") throw new Error(`outbox file ${file}: ${field} is not a string`);
  }
  if (!isEmailTag(record.Tag)) throw new Error(`outbox file ${file}: Tag is not a known email tag`);
  if (record.MessageStream !== "outbound") throw new Error(`outbox file ${file}: MessageStream is not "outbound"`);
  const metadata = record.Metadata;
  if (
    typeof metadata !== "object" ||
    metadata === null ||
    Object.values(metadata).some((entry) => typeof entry !== "string")
  ) {
    throw new Error(`outbox file ${file}: Metadata is not an object of strings`);
  }
  return record as unknown as OutboxMessage;
}
