import net from "node:net";

/**
 * TRUST_PROXY: which hops in front of the server may say who the client is. Express takes
 * the client ip from `X-Forwarded-For`, walking from the right past trusted hops only; an
 * entry a client wrote itself (leftmost) is never believed unless every hop after it is.
 *
 * - `false` (default): the socket's peer is the client; the header is ignored.
 * - `true`: one proxy (the usual load balancer) — the same as `1`.
 * - a number N: N proxies in a chain.
 * - a list of addresses or CIDRs (and `loopback`, `linklocal`, `uniquelocal`): trust exactly
 *   the proxies at those addresses.
 */
export type TrustProxy = false | number | string[];

const NAMED = new Set(["loopback", "linklocal", "uniquelocal"]);

function isAddressOrCidr(entry: string): boolean {
  if (NAMED.has(entry)) return true;
  const [address, bits, ...rest] = entry.split("/");
  if (rest.length > 0 || !address) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** The parsed value, or a message naming what is wrong. */
export function parseTrustProxy(text: string): { ok: true; value: TrustProxy } | { ok: false; message: string } {
  const value = text.trim().toLowerCase();
  if (["", "false", "0", "no"].includes(value)) return { ok: true, value: false };
  if (["true", "yes"].includes(value)) return { ok: true, value: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 16 ? { ok: true, value: hops } : { ok: false, message: "a hop count is at most 16" };
  }
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !isAddressOrCidr(entry));
  if (bad.length > 0) {
    return { ok: false, message: `expected false, true, a hop count, or proxy addresses/CIDRs; not ${bad.map((entry) => JSON.stringify(entry)).join(", ")}` };
  }
  return { ok: true, value: entries };
}
