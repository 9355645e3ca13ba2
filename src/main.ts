import "reflect-metadata";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config/config";
import { DataDirInUseError } from "./db/data-dir";
import { strayRejectionHandler } from "./errors/stray-rejections";
import { batchedStdout } from "./logging/batched-output";
import { createLogger } from "./logging/logger";

/** Process entry: parse config, start, and shut down gracefully on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // The access log writes a line per request: lines go out once per event-loop turn.
  const logger = createLogger({ level: config.LOG_LEVEL, destination: batchedStdout() });
  process.on("unhandledRejection", strayRejectionHandler(logger));
  // Everything this process creates (PGlite's files, keys, outbox) is private to its user.
  process.umask(0o077);
  const app = await createApp(config, { logger }).catch((error: unknown) => {
    // Configuration checked against the database (MFA_REQUIRED_ROLES) fails like a bad
    // variable, and a data directory in use by another server is refused the same way.
    if (error instanceof ConfigError || error instanceof DataDirInUseError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  });
  const address = await app.listen();
  const mode = config.DATABASE_URL ? "postgres" : "embedded (PGlite)";
  logger.info({ port: address.port, database: mode, store: app.store.kind }, `listening on ${config.PUBLIC_URL}/graphql`);
  if (app.bootstrap.created && app.bootstrap.generatedPassword) {
    // Printed once, on purpose, outside the (redacting) logger: the operator needs it to sign in.
    process.stderr.write(
      `\n  First admin created: ${app.bootstrap.email}\n  Password (shown once): ${app.bootstrap.generatedPassword}\n\n`,
    );
  }

  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  const logger = createLogger({ level: "error" });
  logger.fatal({ err: error }, "failed to start");
  process.exit(1);
});
