import { and, eq, isNull, or, lt, sql } from "drizzle-orm";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { SecretBox } from "../crypto/secret-box";
import type { Db, DbOrTx } from "../db/database";
import { mfaRecoveryCodes, users } from "../db/schema";
import { ConflictError, ForbiddenError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { findUserById, updateUser, type UserRow } from "../users/user.repository";
import type { PasswordHasher } from "./passwords";
import type { Principal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from "./recovery-codes";
import { liftRestriction } from "./session.repository";
import { generateTotpSecret, totpUri, verifyTotp } from "./totp";

export interface MfaEnrollment {
  secret: string;
  otpauthUri: string;
}

export interface MfaService {
  begin(principal: Principal, meta: RequestMeta): Promise<MfaEnrollment>;
  /** Confirms enrolment with a first code; returns the recovery codes, shown this once. */
  confirm(principal: Principal, code: string, meta: RequestMeta): Promise<string[]>;
  disable(principal: Principal, proof: { password?: string | null; code?: string | null }, meta: RequestMeta): Promise<true>;
  regenerateRecoveryCodes(principal: Principal, code: string, meta: RequestMeta): Promise<string[]>;
  /**
   * Checks a second factor inside the caller's transaction: a TOTP code (each time step is
   * accepted once, enforced by a conditional update) or an unused recovery code (burned).
   */
  verifySecondFactor(tx: DbOrTx, user: UserRow, proof: { code?: string | null; recoveryCode?: string | null }): Promise<"totp" | "recovery_code" | undefined>;
  /** Whether a user with these roles must have MFA. */
  requiredFor(roles: readonly string[]): boolean;
}

export function createMfaService(deps: {
  db: Db;
  box: SecretBox;
  hasher: PasswordHasher;
  versions: PrincipalVersions;
  clock: Clock;
  issuer: string;
  requiredRoles: readonly string[];
}): MfaService {
  const { db, box, hasher, versions, clock, issuer, requiredRoles } = deps;

  /** Accepts a TOTP code at most once: the step must be newer than the last one used. */
  async function acceptTotp(tx: DbOrTx, user: UserRow, sealed: string, code: string): Promise<boolean> {
    const check = verifyTotp(box.open(sealed), code, clock.now(), user.mfaLastUsedStep ?? null);
    if (!check.ok) return false;
    const updated = await tx
      .update(users)
      .set({ mfaLastUsedStep: check.step })
      .where(and(eq(users.id, user.id), or(isNull(users.mfaLastUsedStep), lt(users.mfaLastUsedStep, check.step))))
      .returning({ id: users.id });
    return updated.length === 1;
  }

  async function replaceRecoveryCodes(tx: DbOrTx, userId: string): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await tx.insert(mfaRecoveryCodes).values(codes.map((code) => ({ userId, codeHash: hashRecoveryCode(code) })));
    return codes;
  }

  async function audited(tx: DbOrTx, meta: RequestMeta, userId: string, action: AuditAction, outcome: "success" | "failure" = "success") {
    await recordAudit(tx, meta, { actor: { type: "user", id: userId }, action, outcome, target: { type: "user", id: userId } });
  }

  async function verifySecondFactor(tx: DbOrTx, user: UserRow, proof: { code?: string | null; recoveryCode?: string | null }) {
    if (proof.code && user.mfaSecretSealed && (await acceptTotp(tx, user, user.mfaSecretSealed, proof.code))) return "totp" as const;
    if (proof.recoveryCode) {
      const burned = await tx
        .update(mfaRecoveryCodes)
        .set({ usedAt: clock.now() })
        .where(
          and(
            eq(mfaRecoveryCodes.userId, user.id),
            eq(mfaRecoveryCodes.codeHash, hashRecoveryCode(normalizeRecoveryCode(proof.recoveryCode))),
            isNull(mfaRecoveryCodes.usedAt),
          ),
        )
        .returning({ id: mfaRecoveryCodes.id });
      if (burned.length === 1) return "recovery_code" as const;
    }
    return undefined;
  }

  return {
    verifySecondFactor,
    requiredFor: (roles) => roles.some((role) => requiredRoles.includes(role)),

    async begin(principal, meta) {
      const user = await findUserById(db, principal.userId);
      if (!user) throw new ForbiddenError();
      if (user.mfaEnabled) throw new ConflictError("MFA is already enabled; disable it first to enrol a new device");
      const secret = generateTotpSecret();
      await db.transaction(async (tx) => {
        await updateUser(tx, user.id, { mfaPendingSecretSealed: box.seal(secret), updatedAt: clock.now() });
        await audited(tx, meta, user.id, AuditAction.MFA_ENROLLMENT_STARTED);
      });
      return { secret, otpauthUri: totpUri(secret, user.email, issuer) };
    },

    async confirm(principal, code, meta) {
      const codes = await db.transaction(async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, principal.userId)).for("update");
        if (!user?.mfaPendingSecretSealed) throw new UserInputError("Start enrolment first", "code");
        if (!(await acceptTotp(tx, user, user.mfaPendingSecretSealed, code))) return undefined;
        await updateUser(tx, user.id, {
          mfaEnabled: true,
          mfaSecretSealed: user.mfaPendingSecretSealed,
          mfaPendingSecretSealed: null,
          updatedAt: clock.now(),
        });
        await liftRestriction(tx, user.id, "mfa_enrollment");
        const codes = await replaceRecoveryCodes(tx, user.id);
        // The audit row goes last: it takes the chain lock, held until commit.
        await audited(tx, meta, user.id, AuditAction.MFA_ENABLED);
        return codes;
      });
      if (!codes) throw new UserInputError("That code is not valid", "code");
      await versions.bumpUser(principal.userId);
      return codes;
    },

    async disable(principal, proof, meta) {
      if (!proof.password && !proof.code) throw new UserInputError("Give your password or a current code", "password");
      if (this.requiredFor(principal.roles)) throw new ForbiddenError("Your role requires MFA; it cannot be turned off");
      const user = await findUserById(db, principal.userId);
      if (!user?.mfaEnabled) throw new UserInputError("MFA is not enabled", "code");
      const passwordOk = proof.password ? await hasher.verify(proof.password, user.passwordHash) : false;
      const done = await db.transaction(async (tx) => {
        const codeOk = !passwordOk && proof.code && user.mfaSecretSealed ? await acceptTotp(tx, user, user.mfaSecretSealed, proof.code) : false;
        if (!passwordOk && !codeOk) return false;
        await updateUser(tx, user.id, {
          mfaEnabled: false,
          mfaSecretSealed: null,
          mfaPendingSecretSealed: null,
          mfaLastUsedStep: null,
          updatedAt: clock.now(),
        });
        await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id));
        await audited(tx, meta, user.id, AuditAction.MFA_DISABLED);
        return true;
      });
      if (!done) throw new UserInputError("Password or code is not valid", proof.password ? "password" : "code");
      await versions.bumpUser(user.id);
      return true;
    },

    async regenerateRecoveryCodes(principal, code, meta) {
      const codes = await db.transaction(async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, principal.userId)).for("update");
        if (!user?.mfaEnabled || !user.mfaSecretSealed) throw new UserInputError("MFA is not enabled", "code");
        if (!(await acceptTotp(tx, user, user.mfaSecretSealed, code))) return undefined;
        const codes = await replaceRecoveryCodes(tx, user.id);
        await audited(tx, meta, user.id, AuditAction.MFA_RECOVERY_CODES_REGENERATED);
        return codes;
      });
      if (!codes) throw new UserInputError("That code is not valid", "code");
      return codes;
    },
  };
}

/** Unused recovery codes left: shown to the user so they know when to regenerate. */
export async function remainingRecoveryCodes(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
  return row?.count ?? 0;
}
