import { describe, expect, it } from "vitest";
import { refreshCookieProblem, type CallerView } from "../../src/http/refresh-cookie-check";

/** Same site, as browsers decide it for SameSite cookies: registrable domain (public suffix list) and scheme. */
const rules = (allowed: string[], secure = true) => ({ secure, allowedOrigins: new Set(allowed) });
const problem = (caller: CallerView, allowed: string[], secure = true) => refreshCookieProblem(caller, rules(allowed, secure))?.problem ?? null;

describe("refreshCookieProblem", () => {
  it("does not judge callers that send no Origin (not browsers)", () => {
    expect(problem({ origin: undefined, host: "id.example.com", secure: false }, [])).toBeNull();
  });

  it("counts subdomains of one registrable domain as one site, but not those of a public suffix", () => {
    expect(problem({ origin: "https://app.example.co.uk", host: "id.example.co.uk", secure: true }, ["https://app.example.co.uk"])).toBeNull();
    expect(problem({ origin: "https://alice.github.io", host: "bob.github.io", secure: true }, ["https://alice.github.io"])).toBe("CROSS_SITE");
    expect(problem({ origin: "https://example.com", host: "example.org", secure: true }, ["https://example.com"])).toBe("CROSS_SITE");
  });

  it("ignores ports (a dev server beside the API on localhost is the same site) but not schemes", () => {
    expect(problem({ origin: "http://localhost:5173", host: "localhost:4000", secure: false }, ["http://localhost:5173"])).toBeNull();
    expect(problem({ origin: "https://app.example.com", host: "id.example.com", secure: false }, ["https://app.example.com"])).toBe("CROSS_SITE");
  });

  it("lets Secure cookies over http only on loopback hosts, and says nothing once the cookie is not Secure", () => {
    for (const host of ["localhost:4000", "127.0.0.1:4000", "[::1]:4000", "app.localhost:4000"]) {
      expect(problem({ origin: `http://${host}`, host, secure: false }, []), host).toBeNull();
    }
    expect(problem({ origin: "http://192.168.1.20:4000", host: "192.168.1.20:4000", secure: false }, [])).toBe("INSECURE_CONNECTION");
    expect(problem({ origin: "http://192.168.1.20:4000", host: "192.168.1.20:4000", secure: false }, [], false)).toBeNull();
  });

  it("trusts the page's own scheme for a same-origin call (a TLS proxy the server was not told about)", () => {
    expect(problem({ origin: "https://id.example.com", host: "id.example.com", secure: false }, [])).toBeNull();
  });

  it("names an origin CORS does not allow first, and an opaque origin as another site", () => {
    expect(problem({ origin: "https://evil.example", host: "id.example.com", secure: true }, ["https://app.example.com"])).toBe("ORIGIN_NOT_ALLOWED");
    expect(problem({ origin: "null", host: "id.example.com", secure: true }, [])).toBe("CROSS_SITE");
  });
});
