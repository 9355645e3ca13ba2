import { describe, expect, it } from "vitest";
import { checkWebhookUrl, embeddedIpv4, forbiddenAddressReason } from "../../src/webhooks/url-guard";

/** Where a webhook may go: the SSRF guard's address ranges and URL rules, without any I/O. */
const strict = { allowHttp: false, allowPrivate: false };
const open = { allowHttp: true, allowPrivate: true };

describe("forbiddenAddressReason", () => {
  const refusedUnlessAllowed = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.255",
    "169.254.10.10",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.1.2.3",
    "64:ff9b::a00:1",
    "2002:c0a8:0101::1",
  ];
  const refusedAlways = ["0.0.0.0", "0.1.2.3", "169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200", "224.0.0.1", "239.1.1.1", "255.255.255.255", "::", "ff02::1"];
  const allowed = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"];

  it.each(refusedUnlessAllowed)("refuses %s unless private targets are allowed", (address) => {
    expect(forbiddenAddressReason(address, strict)).toMatch(/loopback, private or link-local/);
    expect(forbiddenAddressReason(address, open)).toBeNull();
  });

  it.each(refusedAlways)("refuses %s whatever the configuration", (address) => {
    expect(forbiddenAddressReason(address, strict)).not.toBeNull();
    expect(forbiddenAddressReason(address, open)).not.toBeNull();
  });

  it.each(allowed)("allows the public address %s", (address) => {
    expect(forbiddenAddressReason(address, strict)).toBeNull();
  });

  it("reads the IPv4 address inside mapped, NAT64 and 6to4 IPv6 addresses", () => {
    expect(embeddedIpv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(embeddedIpv4("::ffff:a9fe:a9fe")).toBe("169.254.169.254");
    expect(embeddedIpv4("64:ff9b::7f00:1")).toBe("127.0.0.1");
    expect(embeddedIpv4("2002:7f00:1::")).toBe("127.0.0.1");
    expect(embeddedIpv4("2606:4700::1111")).toBeUndefined();
    expect(embeddedIpv4("::1")).toBeUndefined();
  });

  it("is not fooled by something that is not an address", () => {
    expect(forbiddenAddressReason("localhost", open)).toBe("not an IP address");
  });
});

describe("checkWebhookUrl", () => {
  it("accepts an https URL with a name, a port, a path and a query", () => {
    const result = checkWebhookUrl("https://hooks.example.com:8443/in/agent?x=1", strict);
    expect(result.ok && result.url.hostname).toBe("hooks.example.com");
  });

  it("refuses http unless allowed, and other schemes always", () => {
    expect(checkWebhookUrl("http://hooks.example.com/", strict)).toEqual({ ok: false, reason: "must use https" });
    expect(checkWebhookUrl("http://hooks.example.com/", open).ok).toBe(true);
    for (const url of ["ftp://hooks.example.com/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)"]) {
      expect(checkWebhookUrl(url, open).ok, url).toBe(false);
    }
  });

  it("refuses credentials, fragments, relative and overlong URLs", () => {
    expect(checkWebhookUrl("https://user:pw@hooks.example.com/", strict).ok).toBe(false);
    expect(checkWebhookUrl("https://hooks.example.com/#x", strict).ok).toBe(false);
    expect(checkWebhookUrl("/hooks", strict).ok).toBe(false);
    expect(checkWebhookUrl(`https://hooks.example.com/${"a".repeat(2100)}`, strict).ok).toBe(false);
  });

  it("refuses IP literals in forbidden ranges, in any spelling the URL parser accepts", () => {
    for (const url of ["https://127.0.0.1/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://2130706433/", "https://0x7f.1/", "https://169.254.169.254/latest/meta-data"]) {
      expect(checkWebhookUrl(url, strict).ok, url).toBe(false);
    }
    expect(checkWebhookUrl("https://169.254.169.254/", open).ok).toBe(false);
    expect(checkWebhookUrl("http://127.0.0.1:8080/hooks", open).ok).toBe(true);
  });
});
