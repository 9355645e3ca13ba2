/**
 * The server of `npm run bench`, with one extra mutation: the floor the agent-action path is
 * measured against. `benchFloorInsert` is what the issue names as the floor: a mutation on
 * the same server, behind the same agent-key authentication, doing one INSERT (autocommit,
 * no audit). Everything else is the production composition (createApp), started the way
 * src/main.ts starts it. Never part of the product's schema.
 */
import "reflect-metadata";
import { sql } from "drizzle-orm";
import { Ctx, ID, Mutation, Resolver } from "type-graphql";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config/config";
import { rowsOf, type Db } from "../src/db/database";
import type { GraphQLContext } from "../src/graphql/context";
import { createLogger } from "../src/logging/logger";
import { Auth } from "../src/schema/directives";

let floorDb: Db | undefined;

@Resolver()
class BenchFloorResolver {
  @Mutation(() => ID, { description: "Benchmark floor: one INSERT, agent-key auth." })
  @Auth({ agent: true })
  async benchFloorInsert(@Ctx() ctx: GraphQLContext): Promise<string> {
    const agent = await ctx.auth.agent();
    const rows = await floorDb!.execute<{ id: string }>(
      sql`INSERT INTO bench_floor (agent_id, at) VALUES (${agent.agentId}, now()) RETURNING id::text AS id`,
    );
    return rowsOf<{ id: string }>(rows)[0]?.id ?? "";
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const app = await createApp(config, { logger, extraResolvers: [BenchFloorResolver] });
  floorDb = app.database.db;
  await floorDb.execute(
    sql`CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), agent_id uuid NOT NULL, at timestamptz NOT NULL)`,
  );
  const address = await app.listen();
  logger.info({ port: address.port }, "listening (bench floor server)");
  process.once("SIGTERM", () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
