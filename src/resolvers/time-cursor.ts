import { UserInputError } from "../errors/errors";
import { isUuid } from "../validation/ids";
import { isStorableDate } from "../validation/storable";

/**
 * Cursors of connections ordered by (instant, id): agent actions by decision time, spend
 * adjustments by creation. Opaque to clients (base64url of `<ISO instant>|<uuid>`), and
 * checked as they were written, so a crafted one is BAD_USER_INPUT, never a query that fails.
 */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

export interface TimePosition {
  at: Date;
  id: string;
}

export function encodeTimeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");
}

export function decodeTimeCursor(cursor: string): TimePosition | null {
  const [text, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const at = new Date(text ?? "");
  if (!id || !isUuid(id) || !isStorableDate(at)) return null;
  return { at, id };
}

/** A connection's `first` (1 to 200, default 50) and decoded `after`. */
export function timePage(first: number | null | undefined, after: string | null | undefined): { limit: number; after?: TimePosition } {
  const limit = first ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new UserInputError(`first must be 1 to ${MAX_PAGE}`, "first");
  if (!after) return { limit };
  const position = decodeTimeCursor(after);
  if (!position) throw new UserInputError("Invalid cursor", "after");
  return { limit, after: position };
}
