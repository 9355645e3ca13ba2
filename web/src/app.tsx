import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, type ReactNode } from "react";
import { refreshAccessToken } from "./auth/refresh";
import { session, useSession, type SessionState } from "./auth/session";
import { ErrorNotice } from "./components/forms";
import { SessionPermissionsDocument, SignOutDocument } from "./generated/graphql";
import { Link, navigate, useLocation } from "./router";
import { AgentDetail } from "./screens/agent-detail";
import { Agents } from "./screens/agents";
import { Approvals } from "./screens/approvals";
import { ConfirmEmailChange, ForgotPassword, ResetPassword, VerifyEmail } from "./screens/email-links";
import { Security } from "./screens/security";
import { Sessions } from "./screens/sessions";
import { SignIn } from "./screens/sign-in";
import { SignUp } from "./screens/sign-up";

type SignedIn = Extract<SessionState, { status: "signedIn" }>;

const RESTRICTIONS: Record<string, string> = {
  MFA_ENROLLMENT: "Your role requires two-factor authentication: set it up below before anything else.",
  PASSWORD_CHANGE: "Your password has expired: choose a new one below before anything else.",
  EMAIL_VERIFICATION: "Verify your email address (open the link we sent) before anything else.",
};

export function App() {
  const state = useSession();
  const { path, query } = useLocation();

  // A reload keeps the sign-in: the refresh cookie gives this page a new access token.
  useEffect(() => {
    if (session.get().status === "restoring") refreshAccessToken().catch(() => session.signedOut("Could not reach the server to restore your session."));
  }, []);

  // The emailed links work signed in or out.
  const token = query.get("token");
  const landing: Record<string, () => ReactNode> = {
    "/verify-email": () => <VerifyEmail token={token} />,
    "/reset-password": () => <ResetPassword token={token} />,
    "/confirm-email-change": () => <ConfirmEmailChange token={token} />,
  };
  const page = landing[path];
  if (state.status === "restoring") return <Shell>{page ? page() : <p className="loading">Loading…</p>}</Shell>;
  if (page) return <Shell state={state.status === "signedIn" ? state : undefined}>{page()}</Shell>;
  if (state.status === "signedOut") return <Shell>{signedOutPage(path, state.notice)}</Shell>;
  return (
    <Shell state={state}>
      <SignedInPages state={state} path={path} />
    </Shell>
  );
}

function signedOutPage(path: string, notice: string | undefined): ReactNode {
  if (path === "/sign-up") return <SignUp />;
  if (path === "/forgot-password") return <ForgotPassword />;
  return <SignIn notice={notice} />;
}

function SignedInPages({ state, path }: { state: SignedIn; path: string }) {
  const permissions = useQuery(SessionPermissionsDocument, { variables: { token: state.accessToken }, fetchPolicy: "cache-first" });
  const mayApprove = permissions.data?.tokenStatus.permissions.includes("actions:approve") ?? false;
  const restricted = state.restriction ? RESTRICTIONS[state.restriction] : undefined;
  const agent = /^\/agents\/([^/]+)$/.exec(path)?.[1];

  let page: ReactNode;
  if (restricted || path === "/security") page = <Security />;
  else if (path === "/sessions") page = <Sessions />;
  else if (path === "/approvals" && mayApprove) page = <Approvals userId={state.user.id} />;
  else if (agent) page = <AgentDetail id={agent} />;
  else page = <Agents />;

  return (
    <>
      <Nav path={path} mayApprove={mayApprove} restricted={Boolean(restricted)} />
      {restricted && <p className="notice warning">{restricted}</p>}
      {state.cookieWarning && (
        <div role="alert" className="notice warning">
          <strong>This sign-in will not survive a reload or the access token's expiry.</strong> {state.cookieWarning.message}
        </div>
      )}
      {page}
    </>
  );
}

function Nav({ path, mayApprove, restricted }: { path: string; mayApprove: boolean; restricted: boolean }) {
  if (restricted) return null;
  const item = (to: string, label: string) => (
    <li>
      <Link to={to} aria-current={path === to || (to === "/agents" && (path === "/" || path.startsWith("/agents/"))) ? "page" : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <nav aria-label="Main">
      <ul>
        {item("/agents", "Agents")}
        {mayApprove && item("/approvals", "Approvals")}
        {item("/sessions", "Sessions")}
        {item("/security", "Security")}
      </ul>
    </nav>
  );
}

function Shell({ state, children }: { state?: SignedIn; children: ReactNode }) {
  return (
    <div className="shell">
      <header>
        <Link to="/" className="brand">
          Agent Identity
        </Link>
        {state && <Account state={state} />}
      </header>
      <main>{children}</main>
    </div>
  );
}

function Account({ state }: { state: SignedIn }) {
  const [signOut, { error }] = useMutation(SignOutDocument);
  const leave = async () => {
    // Signed out here whatever the server says: the token leaves memory, the cookie is cleared by the answer.
    await signOut().catch(() => undefined);
    session.signedOut();
    navigate("/sign-in", { replace: true });
  };
  return (
    <div className="account">
      <span>{state.user.email}</span>
      <button type="button" className="secondary" onClick={() => void leave()}>
        Sign out
      </button>
      {error && <ErrorNotice message="The server did not confirm the sign-out." />}
    </div>
  );
}
