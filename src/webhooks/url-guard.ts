import net from "node:net";

/**
 * Where webhooks may go. A webhook URL is chosen by a user and fetched by the server, so it
 * must not become a way to reach what only the server can reach (SSRF): loopback, private
 * networks, link-local and the cloud metadata service. Checked twice: the URL's form when it
 * is registered (scheme, no credentials, an IP literal's range), and every address its host
 * resolves to at each delivery, right before connecting to exactly that address
 * (webhook-sender.ts), so a name that later resolves elsewhere (DNS rebinding) gains nothing.
 *
 * The operator may allow plain http (`WEBHOOK_ALLOW_HTTP`) and private targets
 * (`WEBHOOK_ALLOW_PRIVATE_TARGETS`: loopback, private, CGNAT, link-local, unique-local).
 * Nothing opens the metadata addresses, the unspecified address, multicast or broadcast.
 */
export interface TargetPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export type GuardResult = { ok: true; url: URL } | { ok: false; reason: string };

const MAX_URL_LENGTH = 2048;

/** Always refused: no operator setting makes these a webhook receiver. */
const NEVER = new net.BlockList();
NEVER.addAddress("169.254.169.254", "ipv4"); // AWS, GCP, Azure, OpenStack metadata
NEVER.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud metadata
NEVER.addAddress("fd00:ec2::254", "ipv6"); // AWS metadata over IPv6
NEVER.addSubnet("0.0.0.0", 8, "ipv4"); // "this network", 0.0.0.0 included
NEVER.addSubnet("224.0.0.0", 4, "ipv4"); // multicast
NEVER.addSubnet("240.0.0.0", 4, "ipv4"); // reserved, 255.255.255.255 included
NEVER.addAddress("::", "ipv6");
NEVER.addSubnet("ff00::", 8, "ipv6"); // multicast

/** Refused unless the operator allows private targets. */
const PRIVATE = new net.BlockList();
PRIVATE.addSubnet("127.0.0.0", 8, "ipv4"); // loopback
PRIVATE.addSubnet("10.0.0.0", 8, "ipv4");
PRIVATE.addSubnet("172.16.0.0", 12, "ipv4");
PRIVATE.addSubnet("192.168.0.0", 16, "ipv4");
PRIVATE.addSubnet("100.64.0.0", 10, "ipv4"); // carrier-grade NAT
PRIVATE.addSubnet("169.254.0.0", 16, "ipv4"); // link-local
PRIVATE.addSubnet("192.0.0.0", 24, "ipv4"); // IETF protocol assignments
PRIVATE.addSubnet("198.18.0.0", 15, "ipv4"); // benchmarking
PRIVATE.addAddress("::1", "ipv6");
PRIVATE.addSubnet("fc00::", 7, "ipv6"); // unique local
PRIVATE.addSubnet("fe80::", 10, "ipv6"); // link-local

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach an IPv4 host:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16). Undefined for any other IPv6 address.
 */
export function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0) && !(groups[5] === 0 && groups[6] === 0)) {
    return v4(groups[6] as number, groups[7] as number);
  }
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6] as number, groups[7] as number);
  if (groups[0] === 0x2002) return v4(groups[1] as number, groups[2] as number);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail allowed), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  if (net.isIPv6(address) === false) return undefined;
  let text = address.toLowerCase().split("%")[0] as string;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...(tail === undefined ? [] : Array<string>(missing).fill("0")), ...right].map((group) => parseInt(group, 16));
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/** Why a connection to this IP address is refused, or null when it is allowed. */
export function forbiddenAddressReason(address: string, policy: Pick<TargetPolicy, "allowPrivate">): string | null {
  const family = net.isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  if (NEVER.check(address, type)) return "a reserved, multicast or cloud metadata address";
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner !== undefined) return forbiddenAddressReason(inner, policy);
  }
  if (!policy.allowPrivate && PRIVATE.check(address, type)) return "a loopback, private or link-local address";
  return null;
}

/** The host as a bare IP literal (brackets off), or undefined when it is a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) === 0 ? undefined : bare;
}

/**
 * A webhook URL's form: absolute, https (or http when allowed), a host, no credentials, no
 * fragment, at most 2,048 characters; an IP literal must be an allowed address. Names are
 * resolved and checked at delivery (and at registration by the service).
 */
export function checkWebhookUrl(text: string, policy: TargetPolicy): GuardResult {
  if (text.length > MAX_URL_LENGTH) return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters` };
  if (!URL.canParse(text)) return { ok: false, reason: "must be an absolute URL like https://hooks.example.com/agent-identity" };
  const url = new URL(text);
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) {
    return { ok: false, reason: policy.allowHttp ? "must use https or http" : "must use https" };
  }
  if (url.username || url.password) return { ok: false, reason: "must not carry a user name or password" };
  if (url.hash) return { ok: false, reason: "must not have a fragment" };
  if (!url.hostname) return { ok: false, reason: "must name a host" };
  const literal = ipLiteral(url.hostname);
  if (literal !== undefined) {
    const reason = forbiddenAddressReason(literal, policy);
    if (reason) return { ok: false, reason: `must not point at ${reason}` };
  }
  return { ok: true, url };
}
