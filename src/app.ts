import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createAccessTokenService } from "./auth/access-tokens";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords";
import { createPrincipalResolver } from "./auth/principal-resolver";
import { createPrincipalVersions } from "./auth/principal-versions";
import { createRoleCatalog } from "./auth/role-catalog";
import { createSessionPolicy } from "./auth/session-policy";
import { createTokenStatusService } from "./auth/token-status.service";
import { createAgentPrincipalResolver } from "./agents/agent-principal-resolver";
import { createAgentService } from "./agents/agent.service";
import { createActionService } from "./actions/action.service";
import { createChainCache } from "./actions/chain-cache";
import { createAuditService } from "./audit/audit.service";
import { createPolicyService } from "./policies/policy.service";
import { createRunService } from "./runs/run.service";
import { loadSigningKeys, type SigningKeys } from "./auth/signing-keys";
import { ensureBootstrapAdmin, type BootstrapOutcome } from "./bootstrap/bootstrap-admin";
import { systemClock, type Clock } from "./clock";
import type { Config } from "./config/config";
import { checkRequiredRolesExist } from "./config/startup-checks";
import { lockDataDir, secureDataDir } from "./db/data-dir";
import { PROJECT_ROOT } from "./paths";
import { openPglite, openPostgres, type Database, type PostgresOptions } from "./db/database";
import { createApolloServer } from "./graphql/apollo-server";
import { buildAppSchema } from "./graphql/build-schema";
import { createHttpHandler } from "./http/http-handler";
import { createMetrics, type Observe } from "./http/metrics";
import { renderIdePage } from "./http/playground";
import { createRateLimiter } from "./rate-limit/rate-limiter";
import { createLogger, type Logger } from "./logging/logger";
import { buildAccountServices, createMailer } from "./account-services";
import { createSpendAlerts } from "./actions/spend-alerts";
import { createNotifier } from "./email/notifier";
import type { Services } from "./services";
import { createHousekeeping, deletedTotal } from "./housekeeping/housekeeping";
import { createMemoryStore } from "./store/memory-store";
import { createRedisStore } from "./store/redis-store";
import type { SharedStore } from "./store/shared-store";
import { openWebhookBox, webhookTargetPolicy } from "./webhooks/webhook-config";
import { createWebhookService } from "./webhooks/webhook.service";
import { startWebhookWorker, type WebhookWorker } from "./webhooks/webhook-worker";
import type { Resolver } from "./webhooks/webhook-sender";

/** Edges a caller (a test, the benchmark) may supply instead of the ones config selects. */
export interface AppOverrides {
  clock?: Clock;
  logger?: Logger;
  database?: Database;
  store?: SharedStore;
  /** More resolver classes for the schema (the benchmark's floor mutation); none in production. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  extraResolvers?: Function[];
  /** Name resolution for webhook targets (tests play a name that resolves to a forbidden address). */
  webhookResolver?: Resolver;
  /** The built web app served at /app; default dist/web of this project (tests name a missing one). */
  webAppDir?: string;
}

export interface App {
  readonly config: Config;
  readonly database: Database;
  readonly store: SharedStore;
  readonly services: Services;
  readonly keys: SigningKeys;
  readonly hasher: PasswordHasher;
  readonly bootstrap: BootstrapOutcome;
  readonly httpServer: http.Server;
  /** This process's webhook delivery worker (its poll loop is off when WEBHOOK_POLL_INTERVAL is 0). */
  readonly webhookWorker: WebhookWorker;
  listen(): Promise<AddressInfo>;
  /** Stops taking requests, lets the ones in flight finish, then closes the backing services. */
  close(): Promise<void>;
}

/** The PostgreSQL pool's size and deadlines, from config (tests open their pools with these too). */
export function databaseOptions(config: Config): PostgresOptions {
  return {
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT,
  };
}

function openDatabase(config: Config): Database {
  return config.DATABASE_URL ? openPostgres(config.DATABASE_URL, databaseOptions(config)) : openPglite(path.join(config.DATA_DIR, "pglite"));
}

function openStore(config: Config, clock: Clock): SharedStore {
  return config.REDIS_URL
    ? createRedisStore(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, timeoutMs: config.REDIS_TIMEOUT })
    : createMemoryStore(clock);
}

/** The composition root: builds every piece from config, wiring dependencies explicitly. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger({ level: config.LOG_LEVEL });
  // An embedded database belongs to one process: the lock comes before PGlite opens the files.
  const dataDirLock = !config.DATABASE_URL && !overrides.database ? lockDataDir(config.DATA_DIR) : undefined;
  secureDataDir(config.DATA_DIR);
  const database = overrides.database ?? openDatabase(config);
  const store = overrides.store ?? openStore(config, clock);
  try {
    await database.migrate();
    const { db } = database;
    await checkRequiredRolesExist(db, config.MFA_REQUIRED_ROLES);
    const keys = loadSigningKeys({
      jwtSecret: config.JWT_SECRET,
      privateKeyPem: config.JWT_PRIVATE_KEY,
      privateKeyFile: config.JWT_PRIVATE_KEY_FILE,
      keysDir: config.JWT_KEYS_DIR,
      dataDir: config.DATA_DIR,
    }, clock.now());
    const hasher = createPasswordHasher(config.BCRYPT_COST);
    const accessTokens = createAccessTokenService({
      keys,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlMs: config.ACCESS_TOKEN_TTL,
      clock,
    });
    const versions = createPrincipalVersions(store);
    const roleCatalog = createRoleCatalog(db);
    const sessionPolicy = createSessionPolicy({
      idleTimeoutMs: config.SESSION_IDLE_TIMEOUT,
      absoluteLifetimeMs: config.SESSION_ABSOLUTE_LIFETIME,
      reuseGraceMs: config.REFRESH_REUSE_GRACE,
    });
    const principals = createPrincipalResolver({ db, accessTokens, versions, roleCatalog, clock, mfaRequiredRoles: config.MFA_REQUIRED_ROLES });
    const policies = createPolicyService({ db, versions, roleCatalog, clock });
    const metrics = createMetrics();
    const mailer = createMailer(config, logger, clock);
    const alerts = createSpendAlerts({ db, logger, notifier: createNotifier({ mailer, db, logger, appUrl: config.APP_URL, observe: metrics.observe }) });
    const actions = createActionService({
      db,
      flights: database.flights,
      clock,
      policies,
      chains: createChainCache({ versions, policies }),
      timeouts: { reservationTtlMs: config.ACTION_RESERVATION_TTL, approvalTtlMs: config.ACTION_APPROVAL_TTL },
      onCrossings: alerts.crossed,
      onDecided: metrics.decided,
    });
    const webhookBox = openWebhookBox(config);
    const webhookPolicy = webhookTargetPolicy(config);
    const services: Services = {
      ...buildAccountServices({ config, db, store, hasher, accessTokens, versions, roleCatalog, keys, sessionPolicy, clock, logger, mailer, observe: metrics.observe }),
      tokens: createTokenStatusService({ principals, accessTokens }),
      audit: createAuditService({ db, clock }),
      // Suspending or deleting an agent releases what it holds, through the action lifecycle.
      agents: createAgentService({ db, versions, clock, holdings: { releaseAll: actions.releaseAgentHoldings } }),
      policies,
      actions,
      // A finished or cancelled run's held actions are withdrawn through the action lifecycle.
      runs: createRunService({ db, clock, holds: { releaseRun: actions.releaseRunHolds } }),
      webhooks: createWebhookService({ db, box: webhookBox, clock, policy: webhookPolicy, resolve: overrides.webhookResolver }),
      housekeeping: createHousekeeping({ db, clock, retentionMs: config.HOUSEKEEPING_RETENTION }),
    };
    const bootstrap = await ensureBootstrapAdmin({
      db,
      hasher,
      clock,
      logger,
      email: config.BOOTSTRAP_ADMIN_EMAIL,
      password: config.BOOTSTRAP_ADMIN_PASSWORD,
    });

    const httpServer = http.createServer();
    const idePage = renderIdePage("/graphql");
    const schema = buildAppSchema(overrides.extraResolvers);
    const apollo = createApolloServer({
      idePage,
      schema,
      extraPlugins: [metrics.graphqlPlugin(schema)],
      httpServer,
      logger,
      stopGracePeriodMs: config.SHUTDOWN_TIMEOUT,
      introspection: config.INTROSPECTION,
    });
    await apollo.start();
    const probes = [
      { name: "database", check: () => database.ping() },
      { name: store.kind === "redis" ? "redis" : "store", check: () => store.ping() },
    ];
    const handler = createHttpHandler(
      {
        config,
        logger,
        metrics,
        keys,
        probes,
        services,
        principals,
        idePage,
        webAppDir: overrides.webAppDir ?? path.join(PROJECT_ROOT, "dist", "web"),
        agentPrincipals: createAgentPrincipalResolver({ db, versions, clock, logger }),
        db,
        rateLimiter: createRateLimiter(store, config.RATE_LIMIT_SCALE),
      },
      apollo,
    );
    httpServer.on("request", handler);

    const sweeper = startExpirySweeper(services, config.ACTION_SWEEP_INTERVAL, logger, metrics.observe);
    const housekeeping = startPeriodic(config.HOUSEKEEPING_INTERVAL, logger, "housekeeping", async () => {
      const counts = await services.housekeeping.run();
      if (counts && deletedTotal(counts) > 0) logger.info({ deleted: counts }, "housekeeping deleted ended rows");
    });
    const webhookWorker = startWebhookWorker({
      observe: metrics.observe,
      db,
      box: webhookBox,
      clock,
      logger,
      resolve: overrides.webhookResolver,
      options: {
        pollIntervalMs: config.WEBHOOK_POLL_INTERVAL,
        timeoutMs: config.WEBHOOK_TIMEOUT,
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        retryBaseMs: config.WEBHOOK_RETRY_BASE,
        retryMaxMs: config.WEBHOOK_RETRY_MAX,
        concurrency: config.WEBHOOK_CONCURRENCY,
        policy: webhookPolicy,
      },
    });
    let closing: Promise<void> | undefined;
    return {
      config,
      database,
      store,
      services,
      keys,
      hasher,
      bootstrap,
      httpServer,
      webhookWorker,
      listen: () =>
        new Promise((resolve, reject) => {
          httpServer.once("error", reject);
          httpServer.listen(config.PORT, config.HOST, () => resolve(httpServer.address() as AddressInfo));
        }),
      close() {
        closing ??= (async () => {
          sweeper.stop();
          housekeeping.stop();
          await apollo.stop();
          // After the last request (its events are in the outbox), before the database closes.
          await webhookWorker.stop();
          await Promise.allSettled([store.close(), database.close()]);
          dataDirLock?.release();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.allSettled([store.close(), database.close()]);
    dataDirLock?.release();
    throw error;
  }
}

/**
 * Releases expired reservations and holds every `intervalMs` on this process (every process
 * runs one; they skip each other's rows).
 */
function startExpirySweeper(services: Services, intervalMs: number, logger: Logger, observe: Observe): { stop(): void } {
  return startPeriodic(intervalMs, logger, "expiry sweep", async () => {
    const count = await services.actions.expireDue();
    if (count > 0) {
      observe("reservation_expired", count);
      logger.info({ expired: count }, "released expired agent action reservations");
    }
  });
}

/**
 * Runs `task` every `intervalMs` (never when 0), one run at a time; a failed run is logged
 * and tried again at the next interval. The timer never keeps the process alive.
 */
function startPeriodic(intervalMs: number, logger: Logger, name: string, task: () => Promise<void>): { stop(): void } {
  if (intervalMs <= 0) return { stop: () => undefined };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((err: unknown) => logger.warn({ err, task: name }, `${name} failed; retrying next interval`))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
