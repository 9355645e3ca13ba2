import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { from, map, mergeMap, of, type Observable } from "rxjs";
import { refreshAccessToken } from "./auth/refresh";
import { session } from "./auth/session";
import { GRAPHQL_URL } from "./config";
import possibleTypes from "./generated/possible-types";

function isUnauthenticated(result: ApolloLink.Result): boolean {
  return "errors" in result && (result.errors ?? []).some((error) => error.extensions?.code === "UNAUTHENTICATED");
}

/**
 * Sends the in-memory access token, and when the server answers UNAUTHENTICATED (the token
 * expired, or the session's token was replaced), gets a new token and retries the request
 * once. A request that started with an older token than the current one only retries; all
 * others wait for the one refresh in flight. A refused refresh signs out and the original
 * answer goes through.
 */
const authLink = new ApolloLink((operation, forward) => {
  const send = (): Observable<{ token: string | null; result: ApolloLink.Result }> => {
    const token = session.accessToken();
    operation.setContext(({ headers }: { headers?: Record<string, string> }) => {
      const { authorization: _previous, ...rest } = headers ?? {};
      return { headers: token ? { ...rest, authorization: `Bearer ${token}` } : rest };
    });
    return forward(operation).pipe(map((result) => ({ token, result })));
  };
  return send().pipe(
    mergeMap(({ token, result }) => {
      if (!token || !isUnauthenticated(result)) return of(result);
      const current = session.accessToken();
      const renewed = current && current !== token ? Promise.resolve(current) : refreshAccessToken();
      return from(renewed).pipe(mergeMap((next) => (next ? send().pipe(map((retry) => retry.result)) : of(result))));
    }),
  );
});

export const client = new ApolloClient({
  link: ApolloLink.from([authLink, new HttpLink({ uri: GRAPHQL_URL, credentials: "include" })]),
  cache: new InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }),
});

// What one account saw must not show to the next one signing in on this page.
session.subscribe(() => {
  if (session.get().status === "signedOut") void client.clearStore();
});
