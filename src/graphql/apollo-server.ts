import type http from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { GraphQLSchema } from "graphql";
import { backingServiceOutage } from "../errors/backing-service";
import type { Logger } from "../logging/logger";
import { ideLandingPagePlugin } from "../http/playground";
import type { GraphQLContext } from "./context";
import { formatError, isExpectedError } from "./format-error";

/** Logs unexpected errors with the request id; clients only ever see them masked. */
function errorLoggingPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const original = error.originalError;
            const cause = (original as { internalCause?: unknown } | undefined)?.internalCause ?? (backingServiceOutage(original) ? original : undefined);
            if (cause !== undefined) {
              logger.warn({ requestId: contextValue.meta?.requestId, operationName, err: cause }, "backing service unavailable");
            }
            if (isExpectedError(error)) continue;
            logger.error(
              { requestId: contextValue.meta?.requestId, operationName, err: error.originalError ?? error },
              "unexpected error in GraphQL request",
            );
          }
        },
      };
    },
  };
}

/**
 * Query limits come from graphql-armor (depth, aliases, tokens, directives, cost, no field
 * suggestions); batching over HTTP is off, so one request is one operation.
 */
export function createApolloServer(options: {
  schema: GraphQLSchema;
  httpServer: http.Server;
  logger: Logger;
  /** Whether the schema may be introspected (INTROSPECTION). */
  introspection: boolean;
  /** How long stopping waits for requests in flight before closing their connections. */
  stopGracePeriodMs?: number;
}): ApolloServer<GraphQLContext> {
  const armor = new ApolloArmor({
    maxDepth: { n: 10 },
    maxAliases: { n: 15 },
    maxDirectives: { n: 20 },
    maxTokens: { n: 2_000 },
    costLimit: { maxCost: 5_000 },
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return new ApolloServer<GraphQLContext>({
    schema: options.schema,
    plugins: [
      ...armor.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer, stopGracePeriodMillis: options.stopGracePeriodMs }),
      ideLandingPagePlugin("/graphql"),
      errorLoggingPlugin(options.logger),
    ],
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection: options.introspection,
    // main.ts owns signal handling: it drains HTTP, then closes the database and the store.
    stopOnTerminationSignals: false,
    formatError,
  });
}
