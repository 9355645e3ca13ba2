import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from "@apollo/server";
import type { GraphQLContext } from "../graphql/context";
import type { Logger } from "../logging/logger";
import { bodyError } from "./body-error";
import type { GraphqlRequests } from "./graphql-context";
import type { RequestTracker } from "./request-tracker";
import { setHeaders, type HeaderList } from "./security-headers";

export interface GraphqlEndpointDeps {
  apollo: ApolloServer<GraphQLContext>;
  graphql: GraphqlRequests;
  track: RequestTracker;
  securityHeaders: HeaderList;
  maxBodyBytes: number;
  logger: Logger;
}

/** `application/json`, with no charset or UTF-8: what every GraphQL client sends. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * `POST /graphql` with a JSON body, served straight from Node's HTTP server: the same
 * protections as the Express routes (security headers, request id and access log, metrics,
 * CORS, body limit, Apollo's CSRF prevention and query limits) without a dozen middlewares
 * and a router walk on the path every client calls. Anything else (GET, preflights, other
 * content types or encodings, query strings) is declined and goes through Express; a test
 * holds both paths to the same answers.
 *
 * Returns whether it took the request.
 */
export function createGraphqlEndpoint(deps: GraphqlEndpointDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { apollo, graphql, logger } = deps;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { caller, meta } = deps.track(req, res, "/graphql");
    setHeaders(res, deps.securityHeaders);
    const origin = req.headers.origin;
    // As the cors package answers a non-preflight request: a refused origin gets no CORS headers.
    if (graphql.allowsOrigin(origin, caller)) {
      if (origin !== undefined) res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-allow-credentials", "true");
    }
    const body = await readJson(req, deps.maxBodyBytes);
    if (typeof body === "number") return sendBodyError(res, body);

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: "POST", headers, search: "", body },
      context: async () => graphql.context(req, res, caller, meta),
    });
    await send(res, response);
  }

  return (req, res) => {
    if (req.method !== "POST" || req.url !== "/graphql") return false;
    const type = req.headers["content-type"];
    if (type === undefined || !PLAIN_JSON.test(type) || req.headers["content-encoding"] !== undefined) return false;
    serve(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "GraphQL request failed outside Apollo");
      if (!res.headersSent) sendBodyError(res, 500);
      else res.destroy();
    });
    return true;
  };
}

/**
 * The parsed body, or the status to refuse it with: 413 past `limit` bytes, 400 when it is
 * not a JSON object or array (an empty body is `{}`, as body-parser reads it).
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.resolve(413);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const settle = (value: unknown) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) return settle(413);
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => settle(parseJson(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))));
    // The client went away before the end: nobody is left to read the answer.
    req.once("error", () => settle(400));
    req.once("close", () => settle(400));
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  const text = raw.toString("utf8").replace(/^\uFEFF/, "");
  const first = /\S/.exec(text)?.[0];
  if (first !== "{" && first !== "[") return 400;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return 400;
  }
}

function sendBodyError(res: ServerResponse, status: number): void {
  const text = JSON.stringify(bodyError(status));
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

async function send(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === "complete") {
    res.setHeader("content-length", Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
