import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { checkWebhookUrl, forbiddenAddressReason, ipLiteral, type TargetPolicy } from "./url-guard";

/** What one attempt came to: the HTTP status (when an answer came), or why none did. */
export interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution, passed in so tests can play a name that resolves somewhere forbidden. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface SenderOptions {
  policy: TargetPolicy;
  /** The whole attempt (resolution, connection, answer) ends after this. */
  timeoutMs: number;
  resolve?: Resolver;
  /** Ends the attempt early (the worker stopping). */
  signal?: AbortSignal;
}

/** Read at most this much of an answer (it is not kept; reading it lets the connection end cleanly). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = "agent-identity-webhooks/1";

class Refused extends Error {}

/**
 * Every address the host resolves to, each one allowed (one forbidden address refuses the
 * lot: a name that mixes public and private answers is not trusted with either).
 */
async function addressesOf(url: URL, options: SenderOptions): Promise<ResolvedAddress[]> {
  const literal = ipLiteral(url.hostname);
  const found = literal !== undefined ? [{ address: literal, family: literal.includes(":") ? 6 : 4 }] : await (options.resolve ?? systemResolver)(url.hostname);
  if (found.length === 0) throw new Refused("the host name did not resolve");
  for (const entry of found) {
    const reason = forbiddenAddressReason(entry.address, options.policy);
    if (reason) throw new Refused(`the host resolves to ${reason}`);
  }
  return found;
}

/** A `lookup` that answers with the address already checked: the connection goes there, nowhere else. */
function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return ((_hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/**
 * One delivery attempt: POST `body` with `headers` to `url`. Redirects are not followed (a
 * 3xx is a failed attempt): the receiver is the URL that was registered. The attempt has one
 * deadline for everything, and at most 64 KiB of the answer is read.
 */
export async function sendWebhook(urlText: string, headers: Record<string, string>, body: string, options: SenderOptions): Promise<AttemptResult> {
  const started = Date.now();
  const done = (status: number | null, error: string | null): AttemptResult => ({
    ok: error === null && status !== null && status >= 200 && status < 300,
    status,
    error,
    durationMs: Date.now() - started,
  });
  const checked = checkWebhookUrl(urlText, options.policy);
  if (!checked.ok) return done(null, `refused: the URL ${checked.reason}`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const stop = () => controller.abort();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    const [target] = await withAbort(addressesOf(checked.url, options), controller.signal);
    const status = await post(checked.url, target as ResolvedAddress, headers, body, controller.signal);
    if (status >= 300 && status < 400) return done(status, "redirect not followed");
    return done(status, status >= 200 && status < 300 ? null : `answered ${status}`);
  } catch (error) {
    if (error instanceof Refused) return done(null, `refused: ${error.message}`);
    if (options.signal?.aborted) return done(null, "stopped");
    if (controller.signal.aborted) return done(null, `no answer within ${options.timeoutMs} ms`);
    return done(null, describeNetworkError(error));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
  }
}

function withAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function post(url: URL, target: ResolvedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: "POST",
        agent: false,
        lookup: pinnedLookup(target),
        signal,
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": USER_AGENT },
      },
      (response) => {
        let received = 0;
        const finish = () => resolve(response.statusCode ?? 0);
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) {
            finish();
            response.destroy();
          }
        });
        response.on("end", finish);
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A short, fixed description of a network failure (never the message of a library error). */
function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? `connection failed (${code})` : "connection failed";
}
