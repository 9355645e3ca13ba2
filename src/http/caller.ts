import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";
import type { TrustProxy } from "../config/trust-proxy";

/** Whether the hop at `address`, `hop` steps from this server, may speak for the client. */
export type TrustFn = (address: string | undefined, hop: number) => boolean;

/** TRUST_PROXY as a function of (address, hop), with the meaning Express gives its setting. */
export function compileTrust(setting: TrustProxy): TrustFn {
  if (setting === false) return () => false;
  if (typeof setting === "number") return (_address, hop) => hop < setting;
  const trusted = proxyaddr.compile(setting);
  return (address, hop) => address !== undefined && trusted(address, hop);
}

/**
 * Who called and how the request reached this server, believing `X-Forwarded-*` only from
 * trusted proxies, by the rules Express uses for `req.ip`, `req.host` and `req.secure`; both
 * the GraphQL endpoint and the Express routes read them here, so they cannot disagree.
 */
export interface Caller {
  /** The client address: the last untrusted hop of `X-Forwarded-For`, or the socket's peer. */
  ip(): string | null;
  /** host[:port] the request was sent to. */
  host(): string | undefined;
  /** Whether it arrived over TLS. */
  secure(): boolean;
}

export function callerOf(req: IncomingMessage, trust: TrustFn): Caller {
  const peer = req.socket.remoteAddress;
  const proxied = () => trust(peer, 0);
  return {
    ip: () => proxyaddr(req, trust as (address: string, hop: number) => boolean) || null,
    host() {
      const forwarded = proxied() ? firstValue(req.headers["x-forwarded-host"]) : undefined;
      return forwarded || req.headers.host || undefined;
    },
    secure() {
      const direct = "encrypted" in req.socket && req.socket.encrypted === true;
      if (!proxied()) return direct;
      const forwarded = firstValue(req.headers["x-forwarded-proto"]);
      return (forwarded || (direct ? "https" : "http")) === "https";
    },
  };
}

/** The first entry of a comma-separated header: the one the nearest proxy wrote (Express's reading). */
function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(",") : header;
  if (!text) return undefined;
  const comma = text.indexOf(",");
  return (comma === -1 ? text : text.slice(0, comma)).trim();
}
