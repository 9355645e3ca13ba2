import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createApp, type App } from "../../src/app";
import type { Clock } from "../../src/clock";
import type { Database } from "../../src/db/database";
import type { Logger } from "../../src/logging/logger";
import type { Resolver } from "../../src/webhooks/webhook-sender";
import { loadConfig } from "../../src/config/config";
import { databaseOptions } from "../../src/app";
import { createMemoryStore } from "../../src/store/memory-store";
import { createRedisStore } from "../../src/store/redis-store";
import { BACKEND, createTestDatabase, REDIS_URL, uniqueRedisPrefix, type Backend } from "./backend";
import { GraphQLClient } from "./graphql-client";

export const ADMIN_EMAIL = "root@example.com";
export const ADMIN_PASSWORD = "bootstrap-admin-password-1";

export interface TestServer {
  app: App;
  /** DATA_DIR of this server: the email outbox is `<dataDir>/outbox`. */
  dataDir: string;
  url: string;
  client: GraphQLClient;
  backend: Backend;
  close(): Promise<void>;
}

/**
 * A real server on a random port, on the backend under test, with its own database (and
 * its own Redis key prefix). bcrypt runs at cost 4 here: the cost is configuration, and
 * tests measure behaviour, not hashing time.
 */
export async function startTestServer(
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  options: {
    clock?: Clock;
    env?: Record<string, string>;
    extraResolvers?: Function[];
    redisUrl?: string;
    logger?: Logger;
    webhookResolver?: Resolver;
    /** A database the test keeps (to start another server on it later): closed with the server, never dropped. */
    database?: Database;
    /** The web app build to serve at /app (default: this project's dist/web). */
    webAppDir?: string;
  } = {},
): Promise<TestServer> {
  const backend = BACKEND;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-test-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    BCRYPT_COST: "4",
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // Tests sign in as the admin freely and register many accounts from one ip; the tests
    // of MFA requirements and rate limits set these back.
    MFA_REQUIRED_ROLES: "none",
    RATE_LIMIT_SCALE: "1000",
    // Expiry runs when a test calls services.actions.expireDue(), on the test's clock.
    ACTION_SWEEP_INTERVAL: "0",
    // Housekeeping runs when a test calls services.housekeeping.run(), on the test's clock.
    HOUSEKEEPING_INTERVAL: "0",
    ...options.env,
  });
  const testDatabase = options.database
    ? { database: options.database, drop: async () => undefined }
    : await createTestDatabase(backend, databaseOptions(config));
  const clock = options.clock;
  const store =
    backend === "postgres"
      ? createRedisStore(options.redisUrl ?? REDIS_URL, { keyPrefix: uniqueRedisPrefix(), timeoutMs: config.REDIS_TIMEOUT })
      : createMemoryStore(clock ?? { now: () => new Date() });
  const app = await createApp(config, {
    clock,
    database: testDatabase.database,
    store,
    extraResolvers: options.extraResolvers,
    logger: options.logger,
    webhookResolver: options.webhookResolver,
    webAppDir: options.webAppDir,
  });
  const address = await app.listen();
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    dataDir,
    url,
    client: new GraphQLClient(url),
    backend,
    async close() {
      await app.close();
      await testDatabase.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
