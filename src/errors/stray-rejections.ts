import type { Logger } from "pino";
import { backingServiceOutage } from "./backing-service";

/**
 * What the process does with a rejection nobody handled. Node's default is to end the process,
 * and that stays the answer for every bug. One kind is not a bug of ours: a driver rejecting a
 * promise of its own that nobody awaits when its connection is cut (postgres.js's query for
 * array types on each new connection did, until the clients stopped asking for them; see
 * database.ts). An outage of a backing service surfacing that way is logged (its service and
 * kind, never the error, which holds the statement) and the process goes on, answering
 * SERVICE_UNAVAILABLE as everywhere else; any other reason is thrown, and ends the process as
 * Node would have.
 */
export function strayRejectionHandler(logger: Pick<Logger, "warn">): (reason: unknown) => void {
  return (reason) => {
    const outage = backingServiceOutage(reason);
    if (!outage) throw reason;
    logger.warn({ outage }, "a backing service outage surfaced outside any request");
  };
}
