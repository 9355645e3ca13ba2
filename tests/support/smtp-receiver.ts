import net, { type AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message as the receiver got it: the SMTP envelope, who signed in, and the parsed message. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The SMTP_USERNAME the sender authenticated as, when it did. */
  user: string | undefined;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMail[];
  /** One entry per refused AUTH. */
  refusals: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package), for tests: it accepts mail,
 * and requires AUTH when `credentials` are given. It offers no STARTTLS (tests have no
 * certificates), so AUTH runs over the plain connection.
 */
export async function startSmtpReceiver(options: { credentials?: { username: string; password: string } } = {}): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const refusals: string[] = [];
  const server = new SMTPServer({
    authOptional: !options.credentials,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      const expected = options.credentials;
      if (expected && auth.username === expected.username && auth.password === expected.password) {
        callback(null, { user: auth.username });
        return;
      }
      refusals.push("auth");
      callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
        };
        messages.push({ envelope, user: typeof session.user === "string" ? session.user : undefined, ...parseMessage(Buffer.concat(chunks).toString("utf8")) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    messages,
    refusals,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that accepts connections and never says a word: an SMTP server that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

/**
 * Just enough MIME for the messages nodemailer writes: unfolded headers, one level of
 * multipart, and 7bit / quoted-printable / base64 bodies.
 */
function parseMessage(raw: string): Omit<ReceivedMail, "envelope" | "user"> {
  const message = splitPart(raw);
  const type = message.headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  const parts = boundary
    ? message.body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => splitPart(part.replace(/^\r\n/, "")))
    : [message];
  const textOf = (mime: string) => {
    const part = parts.find((candidate) => (candidate.headers.get("content-type") ?? "text/plain").startsWith(mime));
    return part ? decodeBody(part) : "";
  };
  return {
    from: message.headers.get("from") ?? "",
    to: message.headers.get("to") ?? "",
    subject: message.headers.get("subject") ?? "",
    text: textOf("text/plain"),
    html: textOf("text/html"),
  };
}

function splitPart(text: string): Part {
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? "" : text.slice(end + 4) };
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const text = part.body.replace(/=\r\n/g, "");
    const bytes: number[] = [];
    for (let index = 0; index < text.length; index += 1) {
      const escaped = text[index] === "=" ? /^[0-9A-F]{2}/i.exec(text.slice(index + 1, index + 3)) : null;
      if (escaped) {
        bytes.push(Number.parseInt(escaped[0], 16));
        index += 2;
      } else {
        bytes.push(...Buffer.from(text[index] as string, "utf8"));
      }
    }
    return Buffer.from(bytes).toString("utf8");
  }
  return part.body;
}
