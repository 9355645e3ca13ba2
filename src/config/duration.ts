/**
 * Durations in configuration: a whole number of seconds ("900") or a number with one unit
 * ("15m", "12h", "30d", "500ms"). Returned in milliseconds. Pure, so it is unit-tested alone.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function parseDurationMs(text: string): number | undefined {
  const match = /^\s*(\d{1,9})\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? "s";
  return amount * (UNIT_MS[unit] as number);
}
