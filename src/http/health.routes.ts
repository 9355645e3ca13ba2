import express, { type Router } from "express";

export interface Probe {
  name: string;
  check(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2_000;

function withTimeout(promise: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), PROBE_TIMEOUT_MS);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/**
 * `/healthz`: the process is up. `/readyz`: every backing service answers; 503 names the
 * ones that do not (and nothing about why: that goes to the log).
 */
export function healthRoutes(probes: Probe[], onProbeFailure: (name: string, error: unknown) => void): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      probes.map(async (probe) => {
        try {
          await withTimeout(probe.check());
          return [probe.name, "ok"] as const;
        } catch (error) {
          onProbeFailure(probe.name, error);
          return [probe.name, "unavailable"] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", checks: Object.fromEntries(results) });
  });
  return router;
}
