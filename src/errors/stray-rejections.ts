import type { Logger } from "pino";
import { backingServiceOutage } from "./backing-service";

/**
 * What the process does with a rejection nobody handled. Node's default is to end the process,
 * and that stays the answer for every bug. One kind is not a bug of ours: postgres.js fetches
 * the array types on each new connection without handling a failure, so a connection lost at
 * that moment (the database restarting, a connection cut while the pool replaces its client)
 * rejects with nobody to hear it, and would end a server that answers SERVICE_UNAVAILABLE
 * everywhere else. An outage of a backing service surfacing that way is logged (its service
 * and kind, never the error, which holds the statement) and the process goes on; any other
 * reason is thrown, and ends the process as Node would have.
 */
export function strayRejectionHandler(logger: Pick<Logger, "warn">): (reason: unknown) => void {
  return (reason) => {
    const outage = backingServiceOutage(reason);
    if (!outage) throw reason;
    logger.warn({ outage }, "a backing service outage surfaced outside any request");
  };
}
