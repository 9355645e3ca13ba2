import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request that reached the receiver, as received (the raw body: signatures cover its bytes). */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  status: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks` */
  url: string;
  port: number;
  /** Every request, in arrival order, with the status it was answered with. */
  received: ReceivedWebhook[];
  /** Answer the next `count` requests with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** While on, requests are read and never answered (a dead endpoint that holds the connection). */
  hang(on: boolean): void;
  /** Resolves once `count` requests answered 2xx have arrived; fails after `timeoutMs`. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A local HTTP receiver for webhook tests, on 127.0.0.1 only: the outside is never reached. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const failures: number[] = [];
  let hanging = false;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (hanging) return;
      const status = failures.shift() ?? 204;
      received.push({ headers: request.headers, rawBody: Buffer.concat(chunks).toString("utf8"), status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = () => received.filter((entry) => entry.status >= 200 && entry.status < 300);
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    failNext(count, status = 500) {
      for (let i = 0; i < count; i += 1) failures.push(status);
    },
    hang(on) {
      hanging = on;
    },
    async waitForAccepted(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (accepted().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} accepted webhooks, got ${accepted().length} (of ${received.length} requests)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return accepted();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
