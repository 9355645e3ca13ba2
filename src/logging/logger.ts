import pino, { type Logger } from "pino";
import { serializeError } from "./error-serializer";

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log object. Redaction is the last line of
 * defence: code should not log secrets in the first place.
 */
const REDACT_PATHS = [
  "password",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "token",
  "*.token",
  "refreshToken",
  "*.refreshToken",
  "accessToken",
  "*.accessToken",
  "secret",
  "*.secret",
  "key",
  "*.key",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "*.variables",
  "cookie",
];

export function createLogger(options: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name ?? "agent-identity",
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    // Errors (under `err`, the key every log call here uses) lose the values of failed statements.
    serializers: { err: serializeError },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
