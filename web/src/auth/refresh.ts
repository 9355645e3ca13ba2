import { print } from "graphql";
import { GRAPHQL_URL } from "../config";
import { RefreshSessionDocument, type RefreshSessionMutation } from "../generated/graphql";
import { session } from "./session";

const REFRESH = JSON.stringify({ operationName: "RefreshSession", query: print(RefreshSessionDocument) });
/** Answers that mean the refresh cookie is gone or the session ended: sign out. */
const REFUSED = new Set(["UNAUTHENTICATED", "BAD_USER_INPUT", "FORBIDDEN"]);

let inFlight: Promise<string | null> | undefined;

/**
 * A new access token from the httpOnly refresh cookie (the server rotates it). Every caller
 * that asks while one refresh is under way shares it: the requests that failed together
 * are retried together with its one new token. Resolves null when the server refuses (no
 * cookie, session ended): the person is signed out. Rejects when the server cannot be
 * reached or is busy: the session stays, only the request that needed the token fails.
 */
export function refreshAccessToken(): Promise<string | null> {
  inFlight ??= requestRefresh().finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function requestRefresh(): Promise<string | null> {
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: REFRESH,
  });
  const body = (await response.json().catch(() => ({}))) as {
    data?: RefreshSessionMutation | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.data?.refresh) {
    session.signedIn(body.data.refresh);
    return body.data.refresh.accessToken;
  }
  const code = body.errors?.[0]?.extensions?.code;
  if (code && REFUSED.has(code)) {
    const wasSignedIn = session.get().status === "signedIn";
    session.signedOut(wasSignedIn ? "Your session has ended. Sign in again." : undefined);
    return null;
  }
  throw new Error(body.errors?.[0]?.message ?? `The server could not renew the session (HTTP ${response.status}).`);
}

/**
 * Once a restricted session has done what it was restricted to (enrolled MFA, changed the
 * password, verified the email), a new access token no longer carries the restriction.
 */
export async function renewRestrictedSession(): Promise<void> {
  const state = session.get();
  if (state.status === "signedIn" && state.restriction) await refreshAccessToken();
}
