import crypto from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { Request, Response } from "express";
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import { ErrorCode } from "../errors/error-codes";
import type { RequestMeta } from "../request-meta";

/**
 * Prometheus metrics, in a registry of this app's own (several apps may share a process in
 * tests). Every label has a bounded set of values: routes from a fixed list, GraphQL
 * operations by their root field (names from the schema, not the client's operation
 * name), results by error code from the closed list. Every metric declared here is fed.
 */
export interface Metrics {
  registry: Registry;
  /** Counts a finished HTTP request (`path` before any router rewrote it). */
  requestFinished(method: string, path: string, status: number, seconds: number): void;
  /** Labels each GraphQL request with its operation and result (see `operationOf`). */
  graphqlPlugin(schema: GraphQLSchema): ApolloServerPlugin;
  /** The operation and result a request was labelled with, for the access log. */
  labelOf(meta: RequestMeta): OperationLabel | undefined;
  /** Decisions of agent actions, by outcome (ALLOWED, PENDING_APPROVAL, DENIED): the ones one transaction wrote. */
  decided(outcomes: readonly string[]): void;
  /** Counts operational events (closed list): lockouts, expiries, delivery failures. */
  observe(event: OperationalEvent, count?: number): void;
}

/** What operators alert on besides requests and decisions: `operational_events_total{event}`. */
export const OPERATIONAL_EVENTS = ["account_locked", "reservation_expired", "email_delivery_failed", "webhook_delivery_failed"] as const;
export type OperationalEvent = (typeof OPERATIONAL_EVENTS)[number];
export type Observe = (event: OperationalEvent, count?: number) => void;

export interface OperationLabel {
  /** The root field (`login`, `submitAgentAction`), `multiple`, or `invalid` (never parsed or resolved). */
  operation: string;
  /** `ok`, or the first error's code. */
  result: string;
}

const KNOWN_ROUTES = new Set(["/graphql", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"]);
/** Codes a result may carry: ours and the ones Apollo answers before a resolver runs. */
const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "INTERNAL_SERVER_ERROR",
]);

/** The root field an operation selects, if it is one field of the schema's root type; else `multiple`. */
export function operationOf(schema: GraphQLSchema, operation: OperationDefinitionNode | undefined): string {
  if (!operation) return "invalid";
  const root = operation.operation === "mutation" ? schema.getMutationType() : operation.operation === "subscription" ? schema.getSubscriptionType() : schema.getQueryType();
  const names = new Set(operation.selectionSet.selections.map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : "")));
  if (names.size !== 1) return "multiple";
  const [name] = [...names];
  return name && root?.getFields()[name] ? name : name === "__typename" ? "__typename" : "multiple";
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const operations = new Counter({
    name: "graphql_operations_total",
    help: "GraphQL requests by root field and result (ok or the error code): logins, refusals by RATE_LIMITED, denials by POLICY_DENIED",
    labelNames: ["operation", "result"],
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: "graphql_operation_duration_seconds",
    help: "GraphQL request duration by root field",
    labelNames: ["operation"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const decisions = new Counter({
    name: "agent_action_decisions_total",
    help: "Agent action decisions by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const batches = new Counter({
    name: "agent_action_decision_batches_total",
    help: "Transactions that wrote agent action decisions (group commit): decisions over batches is the mean batch",
    registers: [registry],
  });
  const events = new Counter({
    name: "operational_events_total",
    help: "Account lockouts, expired reservations and held actions, failed email and webhook deliveries",
    labelNames: ["event"],
    registers: [registry],
  });
  // Every event is a series from the start (0), so an alert can tell "none yet" from "no data".
  for (const event of OPERATIONAL_EVENTS) events.inc({ event }, 0);
  const labels = new WeakMap<RequestMeta, OperationLabel>();

  return {
    registry,
    requestFinished(method, path, status, seconds) {
      duration.observe({ method, route: KNOWN_ROUTES.has(path) ? path : "other", status: String(status) }, seconds);
    },
    graphqlPlugin(schema) {
      return {
        async requestDidStart() {
          const started = process.hrtime.bigint();
          return {
            async willSendResponse({ contextValue, operation, response }) {
              const body = response.body.kind === "single" ? response.body.singleResult : undefined;
              const code = body?.errors?.[0]?.extensions?.code;
              const result = !body?.errors?.length ? "ok" : typeof code === "string" && KNOWN_CODES.has(code) ? code : "error";
              const label = { operation: operationOf(schema, operation ?? undefined), result };
              operations.inc(label);
              operationDuration.observe({ operation: label.operation }, Number(process.hrtime.bigint() - started) / 1e9);
              const meta = (contextValue as { meta?: RequestMeta }).meta;
              if (meta) labels.set(meta, label);
            },
          };
        },
      };
    },
    labelOf(meta) {
      return labels.get(meta);
    },
    decided(outcomes) {
      for (const outcome of outcomes) decisions.inc({ outcome });
      if (outcomes.length > 0) batches.inc();
    },
    observe(event, count = 1) {
      events.inc({ event }, count);
    },
  };
}

/**
 * GET /metrics. With a token configured, only `Authorization: Bearer <token>` gets the
 * figures (compared in constant time); anyone else gets 401 and nothing about the process.
 */
export function metricsRoute(metrics: Metrics, token: string | undefined) {
  const expected = token ? crypto.createHash("sha256").update(token).digest() : undefined;
  return async (req: Request, res: Response): Promise<void> => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
      const digest = crypto.createHash("sha256").update(presented).digest();
      if (!crypto.timingSafeEqual(digest, expected)) {
        res.status(401).setHeader("www-authenticate", 'Bearer realm="metrics"').json({ error: "metrics need a bearer token" });
        return;
      }
    }
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}
