import { and, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { oneTimeTokens } from "../db/schema";
import { formatOpaqueToken, generateOpaqueToken, hashSecret, parseOpaqueToken, secretMatches } from "./opaque-tokens";

export type OneTimeTokenPurpose = (typeof oneTimeTokens.$inferSelect)["purpose"];
export type OneTimeTokenRow = typeof oneTimeTokens.$inferSelect;

/**
 * Issues a single-use token. With `replaceOlder`, every earlier unused token of the same
 * purpose for the user stops working (a new reset email voids the old link).
 */
export async function issueOneTimeToken(
  tx: DbOrTx,
  input: { userId: string; purpose: OneTimeTokenPurpose; email?: string | null; now: Date; ttlMs: number; replaceOlder: boolean },
): Promise<{ token: string; expiresAt: Date; id: string }> {
  if (input.replaceOlder) {
    await tx
      .update(oneTimeTokens)
      .set({ invalidatedAt: input.now })
      .where(
        and(
          eq(oneTimeTokens.userId, input.userId),
          eq(oneTimeTokens.purpose, input.purpose),
          isNull(oneTimeTokens.usedAt),
          isNull(oneTimeTokens.invalidatedAt),
        ),
      );
  }
  const token = generateOpaqueToken();
  const expiresAt = new Date(input.now.getTime() + input.ttlMs);
  await tx.insert(oneTimeTokens).values({
    id: token.id,
    userId: input.userId,
    purpose: input.purpose,
    secretHash: hashSecret(token.secret),
    email: input.email ?? null,
    createdAt: input.now,
    expiresAt,
  });
  return { token: formatOpaqueToken(token), expiresAt, id: token.id };
}

export type ConsumeResult = { ok: true; row: OneTimeTokenRow } | { ok: false; reason: "invalid" | "used" | "expired" };

/**
 * Uses a token once: the row is locked, checked (secret, purpose, unused, not replaced, not
 * expired) and marked used in the caller's transaction. Any failure says only which kind.
 */
export async function consumeOneTimeToken(
  tx: DbOrTx,
  raw: string,
  purpose: OneTimeTokenPurpose,
  now: Date,
  options: { markUsed?: boolean } = {},
): Promise<ConsumeResult> {
  const parsed = parseOpaqueToken(raw);
  if (!parsed) return { ok: false, reason: "invalid" };
  const [row] = await tx.select().from(oneTimeTokens).where(eq(oneTimeTokens.id, parsed.id)).limit(1).for("update");
  if (!row || row.purpose !== purpose || !secretMatches(parsed.secret, row.secretHash)) return { ok: false, reason: "invalid" };
  if (row.usedAt || row.invalidatedAt) return { ok: false, reason: "used" };
  if (row.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired" };
  if (options.markUsed !== false) {
    await tx.update(oneTimeTokens).set({ usedAt: now }).where(eq(oneTimeTokens.id, row.id));
  }
  return { ok: true, row };
}
