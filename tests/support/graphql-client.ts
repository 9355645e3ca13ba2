import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export interface GraphQLResponse<TData> {
  status: number;
  headers: Headers;
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** Sends typed operations to a running server over real HTTP, as a client would. */
export class GraphQLClient {
  constructor(readonly baseUrl: string) {}

  async request<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | string,
    variables?: TVariables,
    options: RequestOptions = {},
  ): Promise<GraphQLResponse<TData>> {
    const query = typeof document === "string" ? document : print(document);
    return this.raw(JSON.stringify({ query, variables }), options);
  }

  async raw<TData = unknown>(body: string, options: RequestOptions = {}): Promise<GraphQLResponse<TData>> {
    const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.baseUrl}/graphql`, { method: "POST", headers, body });
    const text = await response.text();
    let parsed: { data?: TData; errors?: GraphQLResponse<TData>["errors"] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`non-JSON response (${response.status}): ${text.slice(0, 200)}`);
    }
    return { status: response.status, headers: response.headers, data: parsed.data, errors: parsed.errors };
  }

  /** Like `request`, but fails the test with the server's errors when there are any. */
  async ok<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | string,
    variables?: TVariables,
    options?: RequestOptions,
  ): Promise<TData> {
    const response = await this.request(document, variables, options);
    if (response.errors?.length || !response.data) {
      throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    }
    return response.data;
  }
}

/** The `extensions.code` of the first error, for terse assertions. */
export function errorCode(response: GraphQLResponse<unknown>): unknown {
  return response.errors?.[0]?.extensions?.code;
}
