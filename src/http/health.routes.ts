import express, { type Router } from "express";
import { backingServiceOutage } from "../errors/backing-service";

export interface Probe {
  name: string;
  check(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2_000;

class ProbeTimeout extends Error {}

function withTimeout(promise: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProbeTimeout("timeout")), PROBE_TIMEOUT_MS);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Why a probe failed, in words safe to publish: no host, no driver message, no secret. */
function failureKind(error: unknown): "timeout" | "unreachable" | "unavailable" {
  if (error instanceof ProbeTimeout) return "timeout";
  return backingServiceOutage(error)?.kind ?? "unavailable";
}

/**
 * `/healthz`: the process is up. `/readyz`: every backing service answers; 503 names the
 * ones that do not with the kind of failure (`timeout`: connected but no answer in time;
 * `unreachable`: no connection; `unavailable`: anything else). Details go to the log.
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
          return [probe.name, "ok" as string] as const;
        } catch (error) {
          onProbeFailure(probe.name, error);
          return [probe.name, failureKind(error)] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", checks: Object.fromEntries(results) });
  });
  return router;
}
