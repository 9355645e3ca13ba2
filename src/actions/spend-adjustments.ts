import crypto from "node:crypto";
import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { findAgent } from "../agents/agent.repository";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { hasPermission, type Principal } from "../auth/principal";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/database";
import { spendAdjustments } from "../db/schema";
import { ForbiddenError, UserInputError } from "../errors/errors";
import type { CounterSpec } from "../policy/counters";
import { serializeCapKey, windowBounds, type CapCounter, type CapWindow, type Money } from "../policy/policy-types";
import type { RequestMeta } from "../request-meta";
import { findUserById } from "../users/user.repository";
import { isUuid } from "../validation/ids";
import { checkCost } from "./action-input";
import { adjustSettled, lockCounters, readCounters } from "./spend-ledger";

export type AdjustmentRow = typeof spendAdjustments.$inferSelect;
export type AdjustmentKind = "CREDIT" | "DEBIT";

export interface AdjustmentInput {
  per: CapCounter;
  /** An agent id (AGENT), a user id (OWNER), none (GLOBAL). */
  subjectId: string | null;
  window: CapWindow;
  /** The window instance containing this instant; now when absent. */
  at: Date | null;
  kind: AdjustmentKind;
  /** Positive; a CREDIT is stored negative. */
  amount: Money;
  reason: string;
}

export interface AdjustmentFilter {
  per?: CapCounter;
  subjectId?: string;
  window?: CapWindow;
  from?: Date;
  to?: Date;
}

const MAX_REASON = 500;

/** The reason a person gives for correcting spend: mandatory, 1 to 500 characters. */
export function checkReason(raw: string, field: string): string {
  const reason = raw.trim();
  if (reason.length < 1 || reason.length > MAX_REASON) throw new UserInputError(`A reason of 1 to ${MAX_REASON} characters is required`, field);
  return reason;
}

/** The counter of `per`/`subject` in the `window` instance containing `at` (as countersFor names it). */
export function counterAt(per: CapCounter, subject: string, window: CapWindow, at: Date): CounterSpec {
  const bounds = windowBounds(window, at);
  const windowStart = window === "TOTAL" ? null : bounds.start;
  const key = serializeCapKey({ per, window, subject, windowStart: windowStart?.toISOString() ?? "TOTAL" });
  return { key, per, window, subject, windowStart, windowEnd: bounds.end };
}

/** The net adjustment of each of these counters (signed); counters without any are absent. */
export async function adjustedByCounter(db: DbOrTx, keys: readonly string[]): Promise<Map<string, Money>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .select({ key: spendAdjustments.counterKey, total: sql<string>`sum(${spendAdjustments.amount})::text` })
    .from(spendAdjustments)
    .where(inArray(spendAdjustments.counterKey, [...keys]))
    .groupBy(spendAdjustments.counterKey);
  return new Map(rows.map((row) => [row.key, BigInt(row.total)]));
}

function whereOf(filter: AdjustmentFilter, after?: { createdAt: Date; id: string }): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    filter.per ? eq(spendAdjustments.per, filter.per) : undefined,
    filter.subjectId ? eq(spendAdjustments.subject, filter.subjectId) : undefined,
    filter.window ? eq(spendAdjustments.window, filter.window) : undefined,
    filter.from ? gte(spendAdjustments.createdAt, filter.from) : undefined,
    filter.to ? lt(spendAdjustments.createdAt, filter.to) : undefined,
    after
      ? or(lt(spendAdjustments.createdAt, after.createdAt), and(eq(spendAdjustments.createdAt, after.createdAt), lt(spendAdjustments.id, after.id)))
      : undefined,
  ];
  return and(...conditions);
}

/**
 * Adjustments of the spend ledger by people with `spend:write`: a credit (room given back)
 * or a debit (spend charged) on one counter. The counter is locked as a decision locks it
 * (lockCounters: created when missing, row lock), so an adjustment and a decision on the
 * same counter run one after the other; the counter change, the adjustment row and its
 * audit row commit together. A credit never takes the counter's settled spend below zero
 * (reservations belong to live actions and are released by them).
 */
export function createSpendAdjuster(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function subjectOf(per: CapCounter, subjectId: string | null): Promise<string> {
    if (per === "GLOBAL") {
      if (subjectId) throw new UserInputError("A GLOBAL counter has no subject", "subjectId");
      return "global";
    }
    if (!subjectId || !isUuid(subjectId)) throw new UserInputError(`Name the ${per === "AGENT" ? "agent" : "owner"} of the counter`, "subjectId");
    const exists = per === "AGENT" ? await findAgent(db, subjectId) : await findUserById(db, subjectId);
    if (!exists) throw new UserInputError(`No ${per === "AGENT" ? "agent" : "user"} with that id`, "subjectId");
    return subjectId;
  }

  return {
    async adjust(actor: Principal, input: AdjustmentInput, meta: RequestMeta): Promise<AdjustmentRow> {
      if (!hasPermission(actor, "spend:write")) throw new ForbiddenError("Adjusting spend needs spend:write");
      const amount = checkCost(input.amount, "amount");
      if (amount === 0n) throw new UserInputError("An adjustment amount must be above zero", "amount");
      const reason = checkReason(input.reason, "reason");
      const subject = await subjectOf(input.per, input.subjectId);
      const now = clock.now();
      const spec = counterAt(input.per, subject, input.window, input.at ?? now);
      const signed = input.kind === "CREDIT" ? -amount : amount;
      return db.transaction(async (tx) => {
        await lockCounters(tx, [spec], now);
        const before = (await readCounters(tx, [spec.key])).get(spec.key);
        const settledBefore = before?.settled ?? 0n;
        if (settledBefore + signed < 0n) {
          throw new UserInputError(`A credit of ${amount} would take the counter below zero: it holds ${settledBefore} settled`, "amount");
        }
        const settledAfter = await adjustSettled(tx, spec.key, signed, now);
        const [row] = await tx
          .insert(spendAdjustments)
          .values({
            id: crypto.randomUUID(),
            counterKey: spec.key,
            per: spec.per,
            window: spec.window,
            subject,
            windowStart: spec.windowStart,
            amount: signed,
            reason,
            actorId: actor.userId,
            createdAt: now,
          })
          .returning();
        await recordAudit(tx, meta, {
          actor: { type: "user", id: actor.userId },
          action: AuditAction.SPEND_ADJUSTED,
          outcome: "success",
          target: { type: "spend_counter", id: spec.key },
          details: {
            adjustmentId: row!.id,
            counter: spec.key,
            per: spec.per,
            window: spec.window,
            subject,
            windowStart: spec.windowStart?.toISOString() ?? null,
            kind: input.kind,
            amount: signed.toString(),
            reason,
            settledBefore: settledBefore.toString(),
            settledAfter: settledAfter.toString(),
          },
          at: now,
        });
        return row!;
      });
    },

    /** Adjustments, newest first (spend:read). */
    async list(actor: Principal, filter: AdjustmentFilter, page: { limit: number; after?: { createdAt: Date; id: string } }) {
      if (!hasPermission(actor, "spend:read")) throw new ForbiddenError("Reading spend adjustments needs spend:read");
      const [rows, [count]] = await Promise.all([
        db
          .select()
          .from(spendAdjustments)
          .where(whereOf(filter, page.after))
          .orderBy(desc(spendAdjustments.createdAt), desc(spendAdjustments.id))
          .limit(page.limit + 1),
        db.select({ total: sql<number>`count(*)::int` }).from(spendAdjustments).where(whereOf(filter)),
      ]);
      return { rows: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit, total: count?.total ?? 0 };
    },
  };
}

export type SpendAdjuster = ReturnType<typeof createSpendAdjuster>;
