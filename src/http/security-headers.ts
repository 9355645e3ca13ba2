import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import helmet from "helmet";

/** Response headers as (name, value) pairs, set on every response alike. */
export type HeaderList = readonly (readonly [string, string])[];

/** The CSP source for each inline `<script>` of a page we serve: its SHA-256, so no 'unsafe-inline'. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    const body = match[1] ?? "";
    if (body.length === 0) continue;
    hashes.push(`'sha256-${crypto.createHash("sha256").update(body, "utf8").digest("base64")}'`);
  }
  return hashes;
}

/**
 * The usual response headers, from helmet: `nosniff`, frame denial (also as CSP
 * frame-ancestors), no referrer, and HSTS when the public URL is HTTPS. The CSP lets the
 * served GraphQL IDE run: its scripts and styles come from this server, its one inline
 * script is allowed by hash, its styles are inline (CSS-in-JS) and its requests go to this
 * origin; nothing else may load, and no page may frame ours.
 */
export function securityHeaderList(options: { https: boolean; inlineScripts: readonly string[] }): HeaderList {
  // helmet's headers depend on its options only: run it once against a recorder and keep
  // what it set, instead of a dozen middlewares on every request.
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name.toLowerCase(), Array.isArray(value) ? value.join(", ") : String(value)]);
    },
    removeHeader() {},
  };
  let finished = false;
  helmetFor(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {
    finished = true;
  });
  if (!finished) throw new Error("helmet did not finish synchronously: its headers cannot be computed once");
  return headers;
}

/** Express middleware setting the headers of `securityHeaderList`. */
export function securityHeaders(headers: HeaderList): RequestHandler {
  return (_req, res, next) => {
    setHeaders(res, headers);
    next();
  };
}

export function setHeaders(res: ServerResponse, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}

function helmetFor(options: { https: boolean; inlineScripts: readonly string[] }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...options.inlineScripts],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    crossOriginEmbedderPolicy: false,
  });
}
