import crypto from "node:crypto";
import { UserInputError } from "../errors/errors";

/**
 * Rules for the identifiers people type. Pure functions: they throw a typed error naming the
 * field, and never echo the value back.
 */
export const MAX_EMAIL_LENGTH = 254;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;

/** Trims and lower-cases the domain; the local part keeps its case (RFC 5321), matching is case-insensitive. */
export function normalizeEmail(raw: string, field = "email"): string {
  const email = raw.trim();
  if (email.length === 0) throw new UserInputError("Email is required", field);
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    throw new UserInputError("Email is not a valid address", field);
  }
  const at = email.lastIndexOf("@");
  return `${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`;
}

export function normalizeUsername(raw: string, field = "username"): string {
  const username = raw.trim();
  if (!USERNAME.test(username)) {
    throw new UserInputError(
      "Username must be 3 to 32 characters: letters, digits, '_', '.', '-', starting with a letter or digit",
      field,
    );
  }
  return username;
}

/** Login identifiers are an email (has '@') or a username; anything unusable simply matches no one. */
export function classifyIdentifier(raw: string): { kind: "email" | "username"; value: string } | undefined {
  const value = raw.trim();
  if (value.length === 0 || value.length > MAX_EMAIL_LENGTH || value.includes("\u0000")) return undefined;
  return { kind: value.includes("@") ? "email" : "username", value };
}

/**
 * What the audit trail keeps of a failed sign-in's identifier: its kind and a keyed
 * fingerprint, never the text. People type passwords into the identifier field; a keyed
 * hash still lets a reviewer see the same identifier tried again and again (and match it
 * against a known address with the server's help) without storing what was typed.
 */
export function identifierFingerprint(raw: string, key: Buffer): { kind: "email" | "username" | "invalid"; fingerprint: string } {
  const classified = classifyIdentifier(raw);
  const fingerprint = crypto.createHmac("sha256", key).update("login-identifier\u0000").update(raw.trim().toLowerCase()).digest("base64url").slice(0, 22);
  return { kind: classified?.kind ?? "invalid", fingerprint };
}
