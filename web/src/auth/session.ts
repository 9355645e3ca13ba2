import { useSyncExternalStore } from "react";
import type { SignedInFragment } from "../generated/graphql";

/**
 * Who is signed in, held in this page's memory only: the access token is never written to
 * storage a script (or an extension) could read later. A reload starts at `restoring` and
 * asks the server for a new access token with the httpOnly refresh cookie.
 */
export type SessionState =
  | { status: "restoring" }
  | { status: "signedOut"; notice?: string }
  | {
      status: "signedIn";
      accessToken: string;
      sessionId: string;
      user: SignedInFragment["user"];
      restriction: SignedInFragment["restriction"];
      cookieWarning: SignedInFragment["refreshCookieWarning"];
    };

let state: SessionState = { status: "restoring" };
const listeners = new Set<() => void>();

function update(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
}

export const session = {
  get: (): SessionState => state,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  accessToken: (): string | null => (state.status === "signedIn" ? state.accessToken : null),
  signedIn(payload: SignedInFragment): void {
    update({
      status: "signedIn",
      accessToken: payload.accessToken,
      sessionId: payload.sessionId,
      user: payload.user,
      restriction: payload.restriction,
      cookieWarning: payload.refreshCookieWarning,
    });
  },
  /** `notice` tells the person why (a session that ended); none for a plain sign-out. */
  signedOut(notice?: string): void {
    update({ status: "signedOut", notice });
  },
};

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get);
}

/** Where a fresh sign-in goes: a restricted session straight to the step it must finish. */
export function startPage(payload: SignedInFragment): string {
  return payload.restriction ? "/security" : "/";
}
