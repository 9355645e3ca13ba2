import { describe, expect, it } from "vitest";
import { createSessionPolicy } from "../../src/auth/session-policy";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy = createSessionPolicy({ idleTimeoutMs: 7 * DAY, absoluteLifetimeMs: 30 * DAY, reuseGraceMs: 10_000 });
const created = new Date("2024-03-01T00:00:00.000Z");
const at = (ms: number) => new Date(created.getTime() + ms);

describe("createSessionPolicy", () => {
  it("exposes the reuse grace", () => {
    expect(policy.reuseGraceMs).toBe(10_000);
  });

  it("absoluteExpiry is creation plus the absolute lifetime", () => {
    expect(policy.absoluteExpiry(created)).toEqual(new Date("2024-03-31T00:00:00.000Z"));
  });

  it("idleExpiry is activity plus the idle timeout", () => {
    expect(policy.idleExpiry(at(2 * DAY), created)).toEqual(at(9 * DAY));
  });

  it("idleExpiry is capped at the absolute expiry", () => {
    expect(policy.idleExpiry(at(25 * DAY), created)).toEqual(at(30 * DAY));
    expect(policy.idleExpiry(at(23 * DAY), created)).toEqual(at(30 * DAY));
    expect(policy.idleExpiry(at(23 * DAY - 1), created)).toEqual(at(30 * DAY - 1));
  });

  it("refreshTokenExpiry is the earlier of idle and absolute expiry", () => {
    expect(policy.refreshTokenExpiry({ idleExpiresAt: at(5 * DAY), expiresAt: at(30 * DAY) })).toEqual(at(5 * DAY));
    expect(policy.refreshTokenExpiry({ idleExpiresAt: at(31 * DAY), expiresAt: at(30 * DAY) })).toEqual(at(30 * DAY));
  });

  describe("endedReason", () => {
    const live = { revokedAt: null, idleExpiresAt: at(7 * DAY), expiresAt: at(30 * DAY) };

    it("is undefined while the session is live", () => {
      expect(policy.endedReason(live, at(7 * DAY - 1))).toBeUndefined();
    });

    it("is 'revoked' once revoked, even if also expired", () => {
      expect(policy.endedReason({ ...live, revokedAt: at(HOUR) }, at(2 * HOUR))).toBe("revoked");
      expect(policy.endedReason({ ...live, revokedAt: at(HOUR) }, at(40 * DAY))).toBe("revoked");
    });

    it("is 'expired' at and after the absolute expiry", () => {
      const session = { revokedAt: null, idleExpiresAt: at(30 * DAY), expiresAt: at(30 * DAY) };
      expect(policy.endedReason(session, at(30 * DAY - 1))).toBeUndefined();
      expect(policy.endedReason(session, at(30 * DAY))).toBe("expired");
      expect(policy.endedReason(live, at(31 * DAY))).toBe("expired");
    });

    it("is 'idle_timeout' at and after the idle deadline", () => {
      expect(policy.endedReason(live, at(7 * DAY))).toBe("idle_timeout");
      expect(policy.endedReason(live, at(8 * DAY))).toBe("idle_timeout");
    });
  });
});
