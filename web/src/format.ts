const MICROS = 1_000_000n;

/** Money arrives as micro-units (1 unit = 1,000,000) in a string: shown as units, at least 2 decimals. */
export function formatMoney(micros: string): string {
  const value = BigInt(micros);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const whole = (abs / MICROS).toLocaleString("en-US");
  const fraction = (abs % MICROS).toString().padStart(6, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${sign}${whole}.${fraction}`;
}

/** Units as a number, for drawing (precision past a micro-unit does not matter on a chart). */
export function moneyValue(micros: string): number {
  return Number(BigInt(micros)) / 1_000_000;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}
