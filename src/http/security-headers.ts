import crypto from "node:crypto";
import type { RequestHandler } from "express";
import helmet from "helmet";

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
export function securityHeaders(options: { https: boolean; inlineScripts: readonly string[] }): RequestHandler {
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
