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

/** Most tokens a document may hold; more is refused while parsing (400 GRAPHQL_PARSE_FAILED). */
const MAX_TOKENS = 2_000;

/**
 * Query limits come from graphql-armor (depth, aliases, directives, cost, no field
 * suggestions) and from graphql-js's own parser (tokens): armor's token plugin parses again
 * inside a request hook, where any syntax error becomes a 500; graphql-js's `maxTokens`
 * fails the parse itself, so Apollo answers 400 GRAPHQL_PARSE_FAILED like any syntax error.
 * Batching over HTTP is off, so one request is one operation.
 */
export function createApolloServer(options: {
  schema: GraphQLSchema;
  httpServer: http.Server;
  logger: Logger;
  /** Whether the schema may be introspected (INTROSPECTION). */
  introspection: boolean;
  /** The IDE page served to browsers at the endpoint (its inline script is allowed by the CSP's hash). */
  idePage: string;
  /** How long stopping waits for requests in flight before closing their connections. */
  stopGracePeriodMs?: number;
  /** More plugins (the metrics'). */
  extraPlugins?: readonly ApolloServerPlugin<GraphQLContext>[];
}): ApolloServer<GraphQLContext> {
  const armor = new ApolloArmor({
    maxDepth: { n: 10 },
    maxAliases: { n: 15 },
    maxDirectives: { n: 20 },
    maxTokens: { enabled: false },
    costLimit: { maxCost: 5_000 },
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return new ApolloServer<GraphQLContext>({
    schema: options.schema,
    plugins: [
      ...armor.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer, stopGracePeriodMillis: options.stopGracePeriodMs }),
      ideLandingPagePlugin(options.idePage),
      errorLoggingPlugin(options.logger),
      ...(options.extraPlugins ?? []),
    ],
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: MAX_TOKENS },
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection: options.introspection,
    // main.ts owns signal handling: it drains HTTP, then closes the database and the store.
    stopOnTerminationSignals: false,
    formatError,
  });
}
