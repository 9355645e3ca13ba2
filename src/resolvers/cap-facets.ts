import type { SpendCap } from "../policy/policy-types";

/** What the API shows of a cap's optional parts, with their defaults filled in. */
export interface CapFacets {
  measure: "COST" | "ACTIONS";
  pattern: string | null;
  soft: boolean;
  thresholds: number[];
}

/** The cap with its optional parts as the API shows them (the core leaves defaults out). */
export function withCapFacets<T extends Partial<Pick<SpendCap, "measure" | "pattern" | "soft" | "thresholds">>>(cap: T): Omit<T, keyof CapFacets> & CapFacets {
  return { ...cap, measure: cap.measure ?? "COST", pattern: cap.pattern ?? null, soft: cap.soft === true, thresholds: cap.thresholds ?? [] };
}
