import fs from "node:fs";
import path from "node:path";
import express, { type Router } from "express";

/** Where the web app is served; its build (`vite build`, base `/app/`) expects exactly this. */
export const WEB_APP_PATH = "/app";

const NOT_BUILT =
  "The web app is not built. Run `npm run build` (or `npm run build:web`) in the server's folder; " +
  "it writes dist/web, which this server serves at /app.\n";

/**
 * The built single-page app from `dir` (dist/web). Hashed files under assets/ never change
 * under their name, so browsers keep them for a year; index.html is revalidated on every
 * load so a new build is picked up at once. Any other path under /app is a route of the app
 * (a deep link such as /app/reset-password?token=...) and gets index.html; a missing asset
 * stays a 404 rather than HTML a script tag cannot run. The directory is looked at on each
 * request: a build made while the server runs is served without a restart, and a missing
 * build is a plain-text 503 saying how to make it.
 */
export function webAppRouter(dir: string): Router {
  const indexFile = path.join(dir, "index.html");
  const router = express.Router();
  router.use((_req, res, next) => {
    if (fs.existsSync(indexFile)) return next();
    res.status(503).type("text/plain").setHeader("cache-control", "no-store").send(NOT_BUILT);
  });
  router.use(
    express.static(dir, {
      index: false,
      redirect: false,
      setHeaders(res, file) {
        const hashed = path.relative(dir, file).startsWith(`assets${path.sep}`);
        res.setHeader("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
      },
    }),
  );
  router.use("/assets", (_req, res) => {
    res.status(404).type("text/plain").send("Not found\n");
  });
  router.use((req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    res.setHeader("cache-control", "no-cache");
    res.sendFile(indexFile, (error) => {
      if (error && !res.headersSent) next(error);
    });
  });
  return router;
}
