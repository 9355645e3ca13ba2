import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { passwordReset, verifyEmail } from "../../src/email/email-templates";
import { EmailDeliveryError, type EmailMessage } from "../../src/email/mailer";
import { createOutboxMailer, readOutbox } from "../../src/email/outbox-mailer";
import { createPostmarkMailer, postmarkClientOptions } from "../../src/email/postmark-mailer";
import { createLogger } from "../../src/logging/logger";
import { ManualClock } from "../support/manual-clock";
import { startPostmarkStandIn, type PostmarkStandIn } from "../support/postmark-stand-in";

const FROM = "Agent Identity <no-reply@id.example.com>";
const POSTMARK_KEYS = ["From", "HtmlBody", "MessageStream", "Metadata", "Subject", "Tag", "TextBody", "To"];
const T0 = new Date("2030-04-05T06:07:08.009Z");

/** A message whose link is a secret: it must never show up in a log line or an error. */
function secretMessage(secret = "one-time-secret-0b5e7c"): EmailMessage {
  return {
    ...passwordReset({ to: "ada@example.com", link: `https://id.example.com/reset?token=${secret}`, expiresAt: T0 }),
    metadata: { userId: "user-123" },
  };
}

function captureLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

async function temporaryDirectory(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "ais-outbox-"));
}

describe("outbox mailer", () => {
  it("writes one file holding exactly Postmark's body, which readOutbox returns", async () => {
    const directory = path.join(await temporaryDirectory(), "not", "yet", "there");
    const { logger } = captureLogger();
    const mailer = createOutboxMailer({ directory, from: FROM, logger, clock: new ManualClock(T0) });
    const message = secretMessage();

    await mailer.send(message);

    expect(mailer.kind).toBe("outbox");
    const names = await fs.readdir(directory);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^2030-04-05T06-07-08\.009Z-[0-9a-f]{16}-[0-9a-f]{12}\.json$/);
    const written: unknown = JSON.parse(await fs.readFile(path.join(directory, names[0]!), "utf8"));
    expect(Object.keys(written as object).sort()).toEqual(POSTMARK_KEYS);
    expect(written).toEqual({
      From: FROM,
      To: message.to,
      Subject: message.subject,
      TextBody: message.textBody,
      HtmlBody: message.htmlBody,
      Tag: "password-reset",
      Metadata: { userId: "user-123" },
      MessageStream: "outbound",
    });
    expect(await readOutbox(directory)).toEqual([written]);
  });

  it("writes an empty Metadata object when the message has none", async () => {
    const directory = await temporaryDirectory();
    const mailer = createOutboxMailer({ directory, from: FROM, logger: captureLogger().logger, clock: new ManualClock(T0) });
    await mailer.send(verifyEmail({ to: "bo@example.com", link: "https://id.example.com/v?t=1", expiresAt: T0 }));
    const [message] = await readOutbox(directory);
    expect(message?.Metadata).toEqual({});
    expect(message?.Tag).toBe("verify-email");
  });

  it("logs recipient, subject, tag and file at info, never the bodies", async () => {
    const directory = await temporaryDirectory();
    const { lines, logger } = captureLogger();
    const mailer = createOutboxMailer({ directory, from: FROM, logger, clock: new ManualClock(T0) });
    const message = secretMessage("log-secret-91aa");

    await mailer.send(message);

    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const [file] = await fs.readdir(directory);
    expect(JSON.parse(line)).toMatchObject({
      level: "info",
      to: "ada@example.com",
      subject: message.subject,
      tag: "password-reset",
      file,
    });
    expect(line).not.toContain("log-secret-91aa");
    expect(line).not.toContain("TextBody");
    expect(line).not.toContain("<html");
  });

  it("returns messages oldest first: by the clock, then by send order within one instant", async () => {
    const directory = await temporaryDirectory();
    const clock = new ManualClock(T0);
    const mailer = createOutboxMailer({ directory, from: FROM, logger: captureLogger().logger, clock });
    const send = (subject: string) => mailer.send({ ...secretMessage(), subject });

    clock.advance(60_000);
    await send("later");
    clock.advance(-120_000);
    await send("earlier");
    clock.advance(120_000);
    // Frozen clock: three messages in the same millisecond keep their order.
    for (const subject of ["last-1", "last-2", "last-3"]) await send(subject);

    expect((await readOutbox(directory)).map((m) => m.Subject)).toEqual(["earlier", "later", "last-1", "last-2", "last-3"]);
  });

  it("reads an outbox that does not exist yet as empty", async () => {
    expect(await readOutbox(path.join(await temporaryDirectory(), "missing"))).toEqual([]);
  });

  it("writes concurrent messages to separate, complete files, never showing a partial one", async () => {
    const directory = await temporaryDirectory();
    const mailer = createOutboxMailer({ directory, from: FROM, logger: captureLogger().logger, clock: new ManualClock(T0) });
    // Over 512 KiB, so writeFile needs several writes: a non-atomic writer would be caught half done.
    const big = "x".repeat(2_000_000);
    const subjects = Array.from({ length: 12 }, (_, i) => `message ${i}`);

    let writing = true;
    const reader = (async () => {
      let reads = 0;
      while (writing) {
        for (const message of await readOutbox(directory)) expect(message.TextBody).toHaveLength(big.length);
        reads += 1;
      }
      return reads;
    })();
    await Promise.all(subjects.map((subject) => mailer.send({ ...secretMessage(), subject, textBody: big })));
    writing = false;
    expect(await reader).toBeGreaterThan(0);

    const names = await fs.readdir(directory);
    expect(names).toHaveLength(subjects.length);
    expect(names.every((name) => name.endsWith(".json") && !name.startsWith("."))).toBe(true);
    const messages = await readOutbox(directory);
    expect(messages.map((m) => m.Subject).sort()).toEqual([...subjects].sort());
    expect(messages.every((m) => m.TextBody === big)).toBe(true);
  });

  it("rejects with EmailDeliveryError when the directory cannot be written", async () => {
    const blocker = path.join(await temporaryDirectory(), "a-file");
    await fs.writeFile(blocker, "not a directory");
    const mailer = createOutboxMailer({ directory: blocker, from: FROM, logger: captureLogger().logger, clock: new ManualClock(T0) });

    const error = await mailer.send(secretMessage()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EmailDeliveryError);
    expect((error as EmailDeliveryError).internalCause).toBeInstanceOf(Error);
    expect(String(error)).not.toContain("ada@example.com");
  });
});

describe("postmark mailer through the local stand-in", () => {
  const TOKEN = "server-token-3c9d41f0-e2b7";
  let standIn: PostmarkStandIn;
  let fetchSpy: MockInstance<typeof fetch>;

  beforeEach(async () => {
    standIn = await startPostmarkStandIn({ token: TOKEN });
    fetchSpy = vi.spyOn(globalThis, "fetch");
  });

  afterEach(async () => {
    // Nothing any test here sent may have left this machine.
    const hosts = fetchSpy.mock.calls.map(([input]) => new URL(input instanceof Request ? input.url : String(input)).hostname);
    fetchSpy.mockRestore();
    await standIn.close();
    expect(hosts.every((host) => host === "127.0.0.1")).toBe(true);
  });

  /** Sends and returns the error it rejected with, checking it leaks nothing secret. */
  async function expectDeliveryError(mailer: ReturnType<typeof createPostmarkMailer>): Promise<EmailDeliveryError> {
    const message = secretMessage("postmark-secret-77d2");
    const error = await mailer.send(message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmailDeliveryError);
    const delivery = error as EmailDeliveryError;
    for (const shown of [delivery.message, String(delivery.stack), inspect(delivery), JSON.stringify(delivery)]) {
      expect(shown).not.toContain(TOKEN);
      expect(shown).not.toContain("postmark-secret-77d2");
      expect(shown).not.toContain(message.to);
      expect(shown).not.toContain(message.subject);
    }
    return delivery;
  }

  it("sends one message with the token header and exactly the outbox file's body", async () => {
    const mailer = createPostmarkMailer({ serverToken: TOKEN, apiUrl: standIn.url, from: FROM });
    const message = secretMessage();

    await mailer.send(message);

    expect(mailer.kind).toBe("postmark");
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(standIn.messages).toHaveLength(1);
    const received = standIn.messages[0]!;
    expect(received.headers["x-postmark-server-token"]).toBe(TOKEN);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers.accept).toBe("application/json");
    expect(received.headers["user-agent"]).toMatch(/^Postmark\.JS - 5\./);
    expect(received.headers.host).toBe(new URL(standIn.url).host);
    expect(standIn.requests.map((r) => [r.method, r.path, r.status])).toEqual([["POST", "/email", 200]]);

    // The same message through the outbox: byte-for-byte the same body.
    const directory = await temporaryDirectory();
    await createOutboxMailer({ directory, from: FROM, logger: captureLogger().logger, clock: new ManualClock(T0) }).send(message);
    const [outboxFile] = await readOutbox(directory);
    expect(Object.keys(received.body).sort()).toEqual(POSTMARK_KEYS);
    expect(received.body).toEqual(outboxFile);
  });

  it("passes a configured message stream and an API URL with a trailing slash", async () => {
    const mailer = createPostmarkMailer({ serverToken: TOKEN, apiUrl: `${standIn.url}/`, from: FROM, messageStream: "security" });
    await mailer.send(secretMessage());
    expect(standIn.messages[0]?.body.MessageStream).toBe("security");
    expect(standIn.requests[0]?.path).toBe("/email");
  });

  it("rejects a wrong token with EmailDeliveryError (401, ErrorCode 10) and sends nothing", async () => {
    const mailer = createPostmarkMailer({ serverToken: "wrong-token-5a1e", apiUrl: standIn.url, from: FROM });
    const error = await expectDeliveryError(mailer);
    expect(error.message).not.toContain("wrong-token-5a1e");
    expect(error).toMatchObject({ httpStatus: 401, postmarkErrorCode: 10, retryable: false });
    expect(standIn.messages).toHaveLength(0);
    expect(standIn.requests[0]?.headers["x-postmark-server-token"]).toBe("wrong-token-5a1e");
  });

  it("rejects an outage (500) as retryable, and the next send goes through", async () => {
    const mailer = createPostmarkMailer({ serverToken: TOKEN, apiUrl: standIn.url, from: FROM });
    standIn.failNext(1);
    const error = await expectDeliveryError(mailer);
    expect(error).toMatchObject({ httpStatus: 500, retryable: true });
    expect(standIn.messages).toHaveLength(0);

    await mailer.send(secretMessage());
    expect(standIn.messages).toHaveLength(1);
  });

  it("rejects a refused message (422, ErrorCode 300), keeping Postmark's wording internal", async () => {
    const mailer = createPostmarkMailer({ serverToken: TOKEN, apiUrl: standIn.url, from: FROM });
    standIn.failNext(1, 422);
    const error = await expectDeliveryError(mailer);
    expect(error).toMatchObject({ httpStatus: 422, postmarkErrorCode: 300, retryable: false });
    // Postmark's message quotes the recipient: it stays on the internal cause only.
    expect(String((error.internalCause as Error).message)).toContain("ada@example.com");
    expect(Object.keys(error)).not.toContain("internalCause");
  });

  it("rejects when the API cannot be reached at all", async () => {
    const gone = await startPostmarkStandIn({ token: TOKEN });
    await gone.close();
    const mailer = createPostmarkMailer({ serverToken: TOKEN, apiUrl: gone.url, from: FROM });
    const error = await expectDeliveryError(mailer);
    expect(error).toMatchObject({ message: "Postmark could not be reached", httpStatus: undefined, retryable: true });
  });

  it("refuses an empty token at construction", () => {
    expect(() => createPostmarkMailer({ serverToken: " ", apiUrl: standIn.url, from: FROM })).toThrow(/token is empty/);
  });
});

describe("postmarkClientOptions", () => {
  it("keeps the client's default host when no API URL is given", () => {
    expect(postmarkClientOptions(undefined, 30)).toEqual({ timeout: 30 });
  });

  it("maps an API URL to scheme, host with port, and path prefix", () => {
    expect(postmarkClientOptions("http://127.0.0.1:5123", 5)).toEqual({ useHttps: false, requestHost: "127.0.0.1:5123", timeout: 5 });
    expect(postmarkClientOptions("https://mail.example.com/postmark/", 5)).toEqual({
      useHttps: true,
      requestHost: "mail.example.com/postmark",
      timeout: 5,
    });
  });

  it("refuses URLs it cannot honour", () => {
    expect(() => postmarkClientOptions("ftp://127.0.0.1", 5)).toThrow(/http or https/);
    expect(() => postmarkClientOptions("http://user:pw@127.0.0.1", 5)).toThrow(/credentials/);
    expect(() => postmarkClientOptions("not a url", 5)).toThrow(/not a valid URL/);
  });
});
