import { useMutation } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";
import { renewRestrictedSession } from "../auth/refresh";
import { ErrorNotice, Field, Form, InfoNotice, useAction } from "../components/forms";
import { ConfirmEmailChangeDocument, RequestPasswordResetDocument, ResetPasswordDocument, VerifyEmailDocument } from "../generated/graphql";
import { errorMessage } from "../errors";
import { Link } from "../router";

/** Where the emailed links land: each posts its token back once and says what happened. */
function TokenLanding({ title, token, send, done }: { title: string; token: string | null; send: (token: string) => Promise<unknown>; done: string }) {
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current || !token) return;
    sent.current = true;
    send(token).then(
      () => setOutcome({ ok: true, message: done }),
      (error: unknown) => setOutcome({ ok: false, message: errorMessage(error) }),
    );
  }, [token, send, done]);
  return (
    <section className="card narrow">
      <h1>{title}</h1>
      {!token && <ErrorNotice message="This link has no token. Open the link from the email again." />}
      {token && !outcome && <p>Checking the link…</p>}
      {outcome?.ok && <InfoNotice>{outcome.message}</InfoNotice>}
      {outcome && !outcome.ok && <ErrorNotice message={outcome.message} />}
      <p className="links">
        <Link to="/">Continue</Link>
      </p>
    </section>
  );
}

export function VerifyEmail({ token }: { token: string | null }) {
  const [verify] = useMutation(VerifyEmailDocument);
  const send = async (value: string) => {
    await verify({ variables: { token: value } });
    await renewRestrictedSession();
  };
  return <TokenLanding title="Verify your email" token={token} send={send} done="Your email address is verified." />;
}

export function ConfirmEmailChange({ token }: { token: string | null }) {
  const [confirm] = useMutation(ConfirmEmailChangeDocument);
  return (
    <TokenLanding
      title="Confirm your new email"
      token={token}
      send={(value) => confirm({ variables: { token: value } })}
      done="Your new email address is confirmed; sign in with it from now on."
    />
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [request] = useMutation(RequestPasswordResetDocument);
  const action = useAction(async () => {
    await request({ variables: { email } });
    setSent(true);
  });
  return (
    <section className="card narrow">
      <h1>Reset your password</h1>
      {sent ? (
        <InfoNotice>If {email} has an account, a reset link is on its way. It works once and expires within the hour.</InfoNotice>
      ) : (
        <Form onSubmit={() => void action.run()}>
          <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <ErrorNotice message={action.error} />
          <button type="submit" disabled={action.pending}>
            Send reset link
          </button>
        </Form>
      )}
      <p className="links">
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </section>
  );
}

export function ResetPassword({ token }: { token: string | null }) {
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [reset] = useMutation(ResetPasswordDocument);
  const action = useAction(async () => {
    await reset({ variables: { token: token ?? "", newPassword: password } });
    setDone(true);
  });
  return (
    <section className="card narrow">
      <h1>Choose a new password</h1>
      {!token && <ErrorNotice message="This link has no token. Open the link from the email again." />}
      {done ? (
        <InfoNotice>Your password is changed and every session of the account has ended. Sign in with the new password.</InfoNotice>
      ) : (
        token && (
          <Form onSubmit={() => void action.run()}>
            <Field label="New password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <ErrorNotice message={action.error} />
            <button type="submit" disabled={action.pending}>
              Set password
            </button>
          </Form>
        )
      )}
      <p className="links">
        <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
