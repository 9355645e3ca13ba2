import type { EmailMessage, EmailTag } from "./mailer";

/**
 * The messages the server sends, as pure functions: values in, `EmailMessage` out, no I/O
 * and no clock (times are passed in and printed as ISO 8601 UTC). Each message is described
 * once as a list of blocks and rendered twice: plain text, and HTML in which every dynamic
 * value goes through `escapeHtml`.
 */

const PRODUCT = "Agent Identity";

type Block =
  | { kind: "text"; text: string }
  | { kind: "action"; label: string; link: string }
  | { kind: "facts"; rows: ReadonlyArray<readonly [string, string]> };

interface Layout {
  to: string;
  tag: EmailTag;
  subject: string;
  blocks: Block[];
}

/** Escapes the five characters that matter in HTML text and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function iso(at: Date): string {
  return at.toISOString();
}

function orUnknown(value: string | null): string {
  return value === null || value.trim() === "" ? "unknown" : value;
}

const text = (value: string): Block => ({ kind: "text", text: value });
const action = (label: string, link: string): Block => ({ kind: "action", label, link });
const facts = (...rows: Array<readonly [string, string]>): Block => ({ kind: "facts", rows });

const FOOTER = `This is an automated security message from ${PRODUCT}.`;

function renderText(blocks: Block[]): string {
  const parts = blocks.map((block) => {
    switch (block.kind) {
      case "text":
        return block.text;
      case "action":
        return `${block.label}:\n${block.link}`;
      case "facts":
        return block.rows.map(([label, value]) => `${label}: ${value}`).join("\n");
    }
  });
  return `${[...parts, "--", FOOTER].join("\n\n")}\n`;
}

function renderHtmlBlock(block: Block): string {
  switch (block.kind) {
    case "text":
      return `<p>${escapeHtml(block.text)}</p>`;
    case "action": {
      const href = escapeHtml(block.link);
      return (
        `<p><a href="${href}" style="display:inline-block;padding:10px 18px;background:#1f4fd1;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(block.label)}</a></p>\n` +
        `<p style="font-size:13px;color:#555555">If the button does not work, copy this link into your browser:<br><a href="${href}">${href}</a></p>`
      );
    }
    case "facts": {
      const rows = block.rows.map(
        ([label, value]) => `<tr><td style="padding:2px 12px 2px 0;color:#555555">${escapeHtml(label)}</td><td>${escapeHtml(value)}</td></tr>`,
      );
      return `<table role="presentation" style="border-collapse:collapse">${rows.join("")}</table>`;
    }
  }
}

function renderHtml(subject: string, blocks: Block[]): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222222">',
    `<p style="font-size:18px;font-weight:bold">${escapeHtml(PRODUCT)}</p>`,
    ...blocks.map(renderHtmlBlock),
    `<hr style="border:none;border-top:1px solid #dddddd"><p style="font-size:12px;color:#777777">${escapeHtml(FOOTER)}</p>`,
    "</body></html>",
    "",
  ].join("\n");
}

function render(layout: Layout): EmailMessage {
  return {
    to: layout.to,
    subject: layout.subject,
    textBody: renderText(layout.blocks),
    htmlBody: renderHtml(layout.subject, layout.blocks),
    tag: layout.tag,
  };
}

export interface LinkEmailInput {
  to: string;
  link: string;
  expiresAt: Date;
}

export function verifyEmail({ to, link, expiresAt }: LinkEmailInput): EmailMessage {
  return render({
    to,
    tag: "verify-email",
    subject: `Verify your email address for ${PRODUCT}`,
    blocks: [
      text(`Please confirm that this email address belongs to your ${PRODUCT} account.`),
      action("Verify email address", link),
      text(`The link expires at ${iso(expiresAt)}.`),
      text(`If you did not create an ${PRODUCT} account, you can ignore this email.`),
    ],
  });
}

export function passwordReset({ to, link, expiresAt }: LinkEmailInput): EmailMessage {
  return render({
    to,
    tag: "password-reset",
    subject: `Reset your ${PRODUCT} password`,
    blocks: [
      text(`We received a request to reset the password of your ${PRODUCT} account.`),
      action("Choose a new password", link),
      text(`The link expires at ${iso(expiresAt)}.`),
      text("If you did not ask for this, ignore this email: your password stays unchanged."),
    ],
  });
}

export function passwordChanged({ to, at, ip }: { to: string; at: Date; ip: string | null }): EmailMessage {
  return render({
    to,
    tag: "password-changed",
    subject: `Your ${PRODUCT} password was changed`,
    blocks: [
      text(`The password of your ${PRODUCT} account was changed.`),
      facts(["Time (UTC)", iso(at)], ["IP address", orUnknown(ip)]),
      text("If you made this change, no action is needed. If not, reset your password now and contact your administrator."),
    ],
  });
}

export function accountLocked({ to, until }: { to: string; until: Date }): EmailMessage {
  return render({
    to,
    tag: "account-locked",
    subject: `Your ${PRODUCT} account is temporarily locked`,
    blocks: [
      text(`After repeated failed sign-in attempts, your ${PRODUCT} account is locked until ${iso(until)}.`),
      text("You can sign in again after that time."),
      text("If these attempts were not yours, change your password once you can sign in, and tell your administrator."),
    ],
  });
}

export function newSignIn({
  to,
  at,
  ip,
  userAgent,
}: {
  to: string;
  at: Date;
  ip: string | null;
  userAgent: string | null;
}): EmailMessage {
  return render({
    to,
    tag: "new-sign-in",
    subject: `New sign-in to your ${PRODUCT} account`,
    blocks: [
      text(`There was a new sign-in to your ${PRODUCT} account.`),
      facts(["Time (UTC)", iso(at)], ["IP address", orUnknown(ip)], ["Device", orUnknown(userAgent)]),
      text("If this was you, no action is needed. If not, change your password now and sign out your other sessions."),
    ],
  });
}

export function emailChangeVerify({ to, link, expiresAt }: LinkEmailInput): EmailMessage {
  return render({
    to,
    tag: "email-change-verify",
    subject: `Confirm your new email address for ${PRODUCT}`,
    blocks: [
      text(`Please confirm that you want to use this address for your ${PRODUCT} account.`),
      action("Confirm new email address", link),
      text(`The link expires at ${iso(expiresAt)}. Until then, your current address stays in use.`),
      text("If you did not ask for this change, you can ignore this email."),
    ],
  });
}

/** Sent to the current address when someone else (an administrator) starts an email change. */
export function emailChangeRequested({ to, newEmail, at }: { to: string; newEmail: string; at: Date }): EmailMessage {
  return render({
    to,
    tag: "email-change-requested",
    subject: `A change of the email address of your ${PRODUCT} account was requested`,
    blocks: [
      text(`An administrator asked to move your ${PRODUCT} account to a new email address. It changes only when the new address confirms it.`),
      facts(["New address", newEmail], ["Time (UTC)", iso(at)]),
      text("If you did not expect this change, contact your administrator immediately."),
    ],
  });
}

/** Sent to the old address, so the owner learns of a change they did not make. */
export function emailChanged({ to, newEmail, at }: { to: string; newEmail: string; at: Date }): EmailMessage {
  return render({
    to,
    tag: "email-changed",
    subject: `The email address of your ${PRODUCT} account was changed`,
    blocks: [
      text(`The email address of your ${PRODUCT} account was changed. Future messages go to the new address.`),
      facts(["New address", newEmail], ["Time (UTC)", iso(at)]),
      text("If you did not make this change, contact your administrator immediately."),
    ],
  });
}

export function invite({ to, link, expiresAt }: LinkEmailInput): EmailMessage {
  return render({
    to,
    tag: "invite",
    subject: `You are invited to ${PRODUCT}`,
    blocks: [
      text(`You have been invited to create an ${PRODUCT} account.`),
      action("Accept the invitation", link),
      text(`The invitation expires at ${iso(expiresAt)}.`),
      text("If you were not expecting this invitation, you can ignore this email."),
    ],
  });
}

/** A cap's alert threshold was crossed (one message per cap, window and threshold). */
export function spendThresholdCrossed(input: {
  to: string;
  threshold: number;
  per: string;
  window: string;
  subject: string;
  pattern: string | null;
  measure: "COST" | "ACTIONS";
  limit: bigint;
  spent: bigint;
  agentId: string;
}): EmailMessage {
  const amount = (value: bigint) => (input.measure === "ACTIONS" ? `${value} actions` : `${value} micro-units`);
  return render({
    to: input.to,
    tag: "spend-threshold",
    subject: `${PRODUCT}: ${input.threshold}% of a ${input.window} cap reached`,
    blocks: [
      text(`A cap on your agents reached ${input.threshold}% of its limit in the current ${input.window} window.`),
      facts(
        ["Counted per", `${input.per} ${input.subject}`],
        ["Actions", input.pattern ?? "all"],
        ["Limit", amount(input.limit)],
        ["Used", amount(input.spent)],
        ["Agent that crossed it", input.agentId],
      ),
      text("Actions that would go past a hard cap are denied; past a soft cap they wait for approval."),
    ],
  });
}
