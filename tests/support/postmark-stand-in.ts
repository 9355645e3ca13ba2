import crypto from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request that reached the stand-in, as received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  status: number;
}

/** A message the stand-in accepted, as Postmark would have queued it. */
export interface AcceptedMessage {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  messageId: string;
  submittedAt: string;
}

export interface PostmarkStandIn {
  /** Base URL to pass as the mailer's `apiUrl`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Accepted messages, in arrival order. */
  messages: AcceptedMessage[];
  /** Every request, accepted or not. */
  requests: ReceivedRequest[];
  /** Answer the next `count` requests with `status` (default 500) and Postmark's error body. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for Postmark's `POST /email` that the real `postmark` client talks to:
 * same header, same status codes and error bodies (`{ ErrorCode, Message }`), same success
 * answer. It listens on 127.0.0.1 only, so a test never reaches the outside.
 */
export async function startPostmarkStandIn(options: { token: string }): Promise<PostmarkStandIn> {
  const messages: AcceptedMessage[] = [];
  const requests: ReceivedRequest[] = [];
  const failures: number[] = [];

  const server = http.createServer((request, response) => {
    readBody(request)
      .then((raw) => {
        const { status, payload, body } = answer(request, raw, options.token, failures, messages);
        requests.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body, status });
        send(response, status, payload);
      })
      .catch(() => send(response, 500, { ErrorCode: 0, Message: "Stand-in could not read the request" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    requests,
    failNext(count: number, status = 500) {
      for (let i = 0; i < count; i += 1) failures.push(status);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  status: number;
  payload: Record<string, unknown>;
  body: unknown;
}

function answer(
  request: IncomingMessage,
  raw: string,
  token: string,
  failures: number[],
  messages: AcceptedMessage[],
): Answer {
  const body = parseJson(raw);
  if (request.method !== "POST" || request.url !== "/email") {
    return { status: 404, payload: { ErrorCode: 0, Message: "Not found" }, body };
  }
  const failure = failures.shift();
  if (failure !== undefined) return { status: failure, payload: failureBody(failure, body), body };
  if (request.headers["x-postmark-server-token"] !== token) {
    return { status: 401, payload: { ErrorCode: 10, Message: "Request does not contain a valid Server token." }, body };
  }
  if (!String(request.headers["content-type"] ?? "").startsWith("application/json")) {
    return { status: 422, payload: { ErrorCode: 409, Message: "JSON request required." }, body };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { status: 422, payload: { ErrorCode: 402, Message: "Received invalid JSON input." }, body };
  }
  const record = body as Record<string, unknown>;
  const problem = validateMessage(record);
  if (problem !== null) return { status: 422, payload: { ErrorCode: 300, Message: problem }, body };

  const accepted: AcceptedMessage = {
    headers: request.headers,
    body: record,
    messageId: crypto.randomUUID(),
    submittedAt: new Date().toISOString(),
  };
  messages.push(accepted);
  return {
    status: 200,
    payload: { To: record.To, SubmittedAt: accepted.submittedAt, MessageID: accepted.messageId, ErrorCode: 0, Message: "OK" },
    body,
  };
}

function validateMessage(body: Record<string, unknown>): string | null {
  const present = (field: string) => typeof body[field] === "string" && (body[field] as string).trim() !== "";
  if (!present("From")) return "Invalid 'From' address: none given.";
  if (!present("To")) return "Zero recipients specified";
  if (!present("Subject")) return "Subject is required.";
  if (!present("TextBody") && !present("HtmlBody")) return "Provide either email TextBody or HtmlBody or both.";
  return null;
}

/**
 * Error bodies shaped like Postmark's. The 422 one quotes the recipient, as Postmark's own
 * messages do, so tests can check that callers keep it out of their errors.
 */
function failureBody(status: number, body: unknown): Record<string, unknown> {
  const to = typeof body === "object" && body !== null ? String((body as Record<string, unknown>).To ?? "") : "";
  switch (status) {
    case 401:
      return { ErrorCode: 10, Message: "Request does not contain a valid Server token." };
    case 422:
      return { ErrorCode: 300, Message: `Invalid email request: could not send to '${to}'.` };
    case 429:
      return { ErrorCode: 429, Message: "Rate limit exceeded." };
    case 503:
      return { ErrorCode: 100, Message: "Maintenance." };
    default:
      return { ErrorCode: 0, Message: "Internal server error." };
  }
}

function parseJson(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, payload: Record<string, unknown>): void {
  const text = JSON.stringify(payload);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
