import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import { normalizeEmail } from "../auth/identity-rules";
import { assertPasswordShape, type PasswordHasher } from "../auth/passwords";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { Logger } from "../logging/logger";
import { SYSTEM_REQUEST } from "../request-meta";
import { countLiveUsersWithRole, findUserByEmail, grantRole, insertUser } from "../users/user.repository";

const BOOTSTRAP_LOCK_KEY = 726_340_119;
export const DEFAULT_ADMIN_EMAIL = "admin@localhost";

export type BootstrapOutcome =
  | { created: false; reason: "admin_exists" | "email_taken" }
  | { created: true; email: string; generatedPassword?: string };

/**
 * First start: when no account holds ADMIN, create one from BOOTSTRAP_ADMIN_EMAIL and
 * BOOTSTRAP_ADMIN_PASSWORD, or with a random password that the caller prints once. Runs
 * under an advisory lock, so processes starting together create one admin between them.
 * An existing non-admin account with that email is never promoted: its password is not ours.
 */
export async function ensureBootstrapAdmin(deps: {
  db: Db;
  hasher: PasswordHasher;
  clock: Clock;
  logger: Logger;
  email?: string;
  password?: string;
}): Promise<BootstrapOutcome> {
  const email = normalizeEmail(deps.email ?? DEFAULT_ADMIN_EMAIL, "BOOTSTRAP_ADMIN_EMAIL");
  const generatedPassword = deps.password ? undefined : crypto.randomBytes(18).toString("base64url");
  const password = deps.password ?? (generatedPassword as string);
  assertPasswordShape(password, "BOOTSTRAP_ADMIN_PASSWORD");

  const outcome = await deps.db.transaction(async (tx): Promise<BootstrapOutcome> => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    if ((await countLiveUsersWithRole(tx, "ADMIN")) > 0) return { created: false, reason: "admin_exists" };
    if (await findUserByEmail(tx, email)) return { created: false, reason: "email_taken" };
    const passwordHash = await deps.hasher.hash(password);
    const user = await insertUser(tx, { email, username: null, passwordHash, emailVerifiedAt: deps.clock.now() });
    if (!user) return { created: false, reason: "email_taken" };
    await grantRole(tx, user.id, "ADMIN", null);
    await recordAudit(tx, SYSTEM_REQUEST, {
      actor: { type: "system" },
      action: AuditAction.BOOTSTRAP_ADMIN_CREATED,
      outcome: "success",
      target: { type: "user", id: user.id },
      details: { email, passwordSource: generatedPassword ? "generated" : "environment" },
    });
    return { created: true, email, generatedPassword };
  });

  if (outcome.created) deps.logger.warn({ email: outcome.email }, "bootstrap admin created");
  if (!outcome.created && outcome.reason === "email_taken") {
    deps.logger.error({ email }, "no admin exists and the bootstrap email belongs to another account; set BOOTSTRAP_ADMIN_EMAIL");
  }
  return outcome;
}
