import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logging/logger";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("logger", () => {
  it("redacts passwords, tokens, secrets and credentials wherever they sit one level deep", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: "pw-top",
        input: { password: "pw-nested", newPassword: "pw-new", refreshToken: "rt-nested" },
        token: "tok-top",
        req: { headers: { authorization: "Bearer abc.def.ghi", cookie: "ais_refresh=xyz" } },
        body: { variables: { anything: "var-value" } },
        requestId: "keep-me",
      },
      "event",
    );
    const line = lines.join("");
    for (const secret of ["pw-top", "pw-nested", "pw-new", "rt-nested", "tok-top", "abc.def.ghi", "ais_refresh=xyz", "var-value"]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain("keep-me");
    expect(JSON.parse(line)).toMatchObject({ level: "info", msg: "event", password: "[redacted]" });
  });
});
