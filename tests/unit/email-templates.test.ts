import { describe, expect, it } from "vitest";
import {
  accountLocked,
  emailChanged,
  emailChangeRequested,
  emailChangeVerify,
  escapeHtml,
  invite,
  spendThresholdCrossed,
  newSignIn,
  passwordChanged,
  passwordReset,
  verifyEmail,
} from "../../src/email/email-templates";
import { EMAIL_TAGS, type EmailMessage, type EmailTag } from "../../src/email/mailer";

const TO = "ada@example.com";
const AT = new Date("2030-04-05T06:07:08.000Z");
const LINK = "https://id.example.com/verify?token=abc.def&next=%2Fhome";
/** How the link appears in HTML: `&` escaped, in text and in the href. */
const LINK_HTML = "https://id.example.com/verify?token=abc.def&amp;next=%2Fhome";

interface Case {
  tag: EmailTag;
  message: EmailMessage;
  /** Values that must appear verbatim in the text body and escaped in the HTML body. */
  values: string[];
}

const cases: Case[] = [
  { tag: "verify-email", message: verifyEmail({ to: TO, link: LINK, expiresAt: AT }), values: [LINK, AT.toISOString()] },
  { tag: "password-reset", message: passwordReset({ to: TO, link: LINK, expiresAt: AT }), values: [LINK, AT.toISOString()] },
  {
    tag: "password-changed",
    message: passwordChanged({ to: TO, at: AT, ip: "203.0.113.7" }),
    values: [AT.toISOString(), "203.0.113.7"],
  },
  { tag: "account-locked", message: accountLocked({ to: TO, until: AT }), values: [AT.toISOString()] },
  {
    tag: "new-sign-in",
    message: newSignIn({ to: TO, at: AT, ip: "2001:db8::1", userAgent: "Mozilla/5.0 (X11; Linux x86_64)" }),
    values: [AT.toISOString(), "2001:db8::1", "Mozilla/5.0 (X11; Linux x86_64)"],
  },
  {
    tag: "email-change-verify",
    message: emailChangeVerify({ to: "new@example.com", link: LINK, expiresAt: AT }),
    values: [LINK, AT.toISOString()],
  },
  {
    tag: "email-changed",
    message: emailChanged({ to: TO, newEmail: "new@example.com", at: AT }),
    values: ["new@example.com", AT.toISOString()],
  },
  {
    tag: "email-change-requested",
    message: emailChangeRequested({ to: TO, newEmail: "new@example.com", at: AT }),
    values: ["new@example.com", AT.toISOString()],
  },
  { tag: "invite", message: invite({ to: TO, link: LINK, expiresAt: AT }), values: [LINK, AT.toISOString()] },
  {
    tag: "spend-threshold",
    message: spendThresholdCrossed({
      to: TO,
      threshold: 80,
      per: "AGENT",
      window: "DAY",
      subject: "agent-7",
      pattern: "payments.*",
      measure: "COST",
      limit: 10_000_000n,
      spent: 8_000_000n,
      agentId: "agent-7",
    }),
    values: ["80%", "payments.*", "10000000 micro-units", "8000000 micro-units", "agent-7"],
  },
];

describe("email templates", () => {
  it("cover every tag exactly once", () => {
    expect(cases.map((c) => c.tag).sort()).toEqual([...EMAIL_TAGS].sort());
  });

  describe.each(cases)("$tag", ({ tag, message, values }) => {
    it("addresses the recipient with its tag, a subject and both bodies", () => {
      expect(message.tag).toBe(tag);
      expect(message.to).toBe(tag === "email-change-verify" ? "new@example.com" : TO);
      expect(message.subject).toContain("Agent Identity");
      expect(message.subject.length).toBeLessThan(80);
      expect(message.textBody.trim()).not.toBe("");
      expect(message.htmlBody).toMatch(/^<!DOCTYPE html>/);
      expect(message.htmlBody).toContain("Agent Identity");
      expect(message.textBody).not.toMatch(/<[a-z]/i);
    });

    it("carries its values in both bodies (escaped in the HTML one)", () => {
      for (const value of values) {
        expect(message.textBody).toContain(value);
        expect(message.htmlBody).toContain(escapeHtml(value));
      }
    });

    it("puts its link, if it has one, in an href", () => {
      if (!values.includes(LINK)) return;
      expect(message.htmlBody).toContain(`href="${LINK_HTML}"`);
      expect(message.htmlBody).not.toContain(LINK);
    });
  });

  it("prints times as ISO 8601 in UTC", () => {
    const local = new Date(Date.UTC(2031, 0, 2, 23, 30, 0));
    expect(accountLocked({ to: TO, until: local }).textBody).toContain("2031-01-02T23:30:00.000Z");
  });

  it("says 'unknown' for a missing ip or user agent", () => {
    const message = newSignIn({ to: TO, at: AT, ip: null, userAgent: null });
    expect(message.textBody).toContain("IP address: unknown");
    expect(message.textBody).toContain("Device: unknown");
    expect(passwordChanged({ to: TO, at: AT, ip: "" }).textBody).toContain("IP address: unknown");
  });
});

describe("escapeHtml", () => {
  it("escapes the characters that open tags, attributes and entities", () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;",
    );
    expect(escapeHtml("plain text 123")).toBe("plain text 123");
  });

  it("keeps a script in a user agent inert in the HTML body, verbatim in the text body", () => {
    const userAgent = `<script>alert("pwned")</script><img src=x onerror='alert(1)'>`;
    const message = newSignIn({ to: TO, at: AT, ip: `"><b>1.2.3.4`, userAgent });
    expect(message.htmlBody).not.toContain("<script");
    expect(message.htmlBody).not.toContain("<img");
    expect(message.htmlBody).not.toContain("<b>");
    expect(message.htmlBody).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
    expect(message.textBody).toContain(userAgent);
  });

  it("keeps a hostile link from breaking out of its href", () => {
    const link = `https://id.example.com/x?a="><script>alert(1)</script>`;
    const message = passwordReset({ to: TO, link, expiresAt: AT });
    expect(message.htmlBody).not.toContain("<script");
    expect(message.htmlBody).toContain(`href="https://id.example.com/x?a=&quot;&gt;&lt;script&gt;`);
  });

  it("escapes a hostile new address in the email-changed notice", () => {
    const message = emailChanged({ to: TO, newEmail: "<i>evil</i>@example.com", at: AT });
    expect(message.htmlBody).not.toContain("<i>");
    expect(message.htmlBody).toContain("&lt;i&gt;evil&lt;/i&gt;@example.com");
  });
});
