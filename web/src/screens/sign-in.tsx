import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { session, startPage } from "../auth/session";
import { ErrorNotice, Field, Form, InfoNotice, useAction } from "../components/forms";
import { CompleteMfaSignInDocument, SignInDocument } from "../generated/graphql";
import { Link, navigate } from "../router";

/** Password first; with MFA on, a second step takes a code from the app or a recovery code. */
export function SignIn({ notice }: { notice?: string }) {
  const [challenge, setChallenge] = useState<string | null>(null);
  return challenge ? <MfaStep challengeToken={challenge} onRestart={() => setChallenge(null)} /> : <PasswordStep notice={notice} onChallenge={setChallenge} />;
}

function PasswordStep({ notice, onChallenge }: { notice?: string; onChallenge: (token: string) => void }) {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const [signIn] = useMutation(SignInDocument);
  const action = useAction(async () => {
    const { data } = await signIn({ variables: { input: { identifier, password, tokenDelivery: "COOKIE" } } });
    if (!data) return;
    if (data.login.__typename === "MfaChallenge") onChallenge(data.login.challengeToken);
    else {
      session.signedIn(data.login);
      navigate(startPage(data.login), { replace: true });
    }
  });
  return (
    <section className="card narrow">
      <h1>Sign in</h1>
      {notice && <InfoNotice>{notice}</InfoNotice>}
      <Form onSubmit={() => void action.run()}>
        <Field label="Email or username" autoComplete="username" required value={identifier} onChange={(e) => setIdentifier(e.target.value)} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.pending}>
          Sign in
        </button>
      </Form>
      <p className="links">
        <Link to="/forgot-password">Forgot your password?</Link> · <Link to="/sign-up">Create an account</Link>
      </p>
    </section>
  );
}

function MfaStep({ challengeToken, onRestart }: { challengeToken: string; onRestart: () => void }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [value, setValue] = useState("");
  const [complete] = useMutation(CompleteMfaSignInDocument);
  const action = useAction(async () => {
    const secret = useRecovery ? { recoveryCode: value.trim() } : { code: value.replace(/\s+/g, "") };
    const { data } = await complete({ variables: { input: { challengeToken, ...secret, tokenDelivery: "COOKIE" } } });
    if (!data) return;
    session.signedIn(data.completeMfaLogin);
    navigate(startPage(data.completeMfaLogin), { replace: true });
  });
  return (
    <section className="card narrow">
      <h1>Two-factor check</h1>
      <p>{useRecovery ? "Enter one of your recovery codes. Each works once." : "Enter the 6-digit code from your authenticator app."}</p>
      <Form onSubmit={() => void action.run()}>
        {useRecovery ? (
          <Field key="recovery" label="Recovery code" autoComplete="off" required value={value} onChange={(e) => setValue(e.target.value)} />
        ) : (
          <Field
            key="code"
            label="Authentication code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        )}
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.pending}>
          Verify
        </button>
      </Form>
      <p className="links">
        <button
          type="button"
          className="link"
          onClick={() => {
            setUseRecovery(!useRecovery);
            setValue("");
          }}
        >
          {useRecovery ? "Use a code from the app instead" : "Use a recovery code instead"}
        </button>{" "}
        ·{" "}
        <button type="button" className="link" onClick={onRestart}>
          Start over
        </button>
      </p>
    </section>
  );
}
