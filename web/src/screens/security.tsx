import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { renewRestrictedSession } from "../auth/refresh";
import { CopyButton } from "../components/copy-button";
import { ErrorNotice, Field, Form, InfoNotice, useAction } from "../components/forms";
import { QrCode } from "../components/qr-code";
import {
  BeginMfaEnrollmentDocument,
  ChangePasswordDocument,
  ConfirmMfaEnrollmentDocument,
  MeDocument,
  ResendVerificationEmailDocument,
  type BeginMfaEnrollmentMutation,
} from "../generated/graphql";

/** Two-factor enrolment, the password and the email's verification: what a restricted session is sent to finish. */
export function Security() {
  const me = useQuery(MeDocument);
  const user = me.data?.me;
  return (
    <>
      <h1>Security</h1>
      <section className="card">
        <h2>Two-factor authentication</h2>
        {user?.mfaEnabled ? (
          <p>Two-factor authentication is on: signing in asks for a code from your authenticator app.</p>
        ) : (
          <MfaEnrolment onDone={() => void renewRestrictedSession().finally(() => void me.refetch())} />
        )}
      </section>
      <ChangePassword />
      {user && !user.emailVerified && <EmailVerification email={user.email} />}
    </>
  );
}

function MfaEnrolment({ onDone }: { onDone: () => void }) {
  const [enrolment, setEnrolment] = useState<BeginMfaEnrollmentMutation["beginMfaEnrollment"] | null>(null);
  const [code, setCode] = useState("");
  const [recoveryCodes, setRecoveryCodes] = useState<readonly string[] | null>(null);
  const [begin] = useMutation(BeginMfaEnrollmentDocument);
  const [confirm] = useMutation(ConfirmMfaEnrollmentDocument);
  const start = useAction(async () => {
    const { data } = await begin();
    if (data) setEnrolment(data.beginMfaEnrollment);
  });
  const finish = useAction(async () => {
    const { data } = await confirm({ variables: { code: code.replace(/\s+/g, "") } });
    if (data) setRecoveryCodes(data.confirmMfaEnrollment.recoveryCodes);
  });

  if (recoveryCodes) {
    return (
      <div>
        <InfoNotice>Two-factor authentication is on.</InfoNotice>
        <p>
          Keep these recovery codes somewhere safe: each signs you in once if you lose your phone. <strong>They are shown only now.</strong>
        </p>
        <ul className="recovery-codes" aria-label="Recovery codes">
          {recoveryCodes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ul>
        <CopyButton text={recoveryCodes.join("\n")} label="Copy recovery codes" />{" "}
        <button type="button" onClick={onDone}>
          I have saved them
        </button>
      </div>
    );
  }
  if (!enrolment) {
    return (
      <div>
        <p>Protect your account with a code from an authenticator app on your phone.</p>
        <ErrorNotice message={start.error} />
        <button type="button" onClick={() => void start.run()} disabled={start.pending}>
          Set up two-factor authentication
        </button>
      </div>
    );
  }
  return (
    <div className="enrolment">
      <QrCode text={enrolment.otpauthUri} label="QR code to scan with your authenticator app" />
      <div>
        <p>Scan the code with your authenticator app, or enter this key by hand:</p>
        <p>
          <code aria-label="Setup key">{enrolment.secret}</code>
        </p>
        <Form onSubmit={() => void finish.run()}>
          <Field
            label="Code from the app"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <ErrorNotice message={finish.error} />
          <button type="submit" disabled={finish.pending}>
            Turn on
          </button>
        </Form>
      </div>
    </div>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [done, setDone] = useState(false);
  const [change] = useMutation(ChangePasswordDocument);
  const action = useAction(async () => {
    await change({ variables: { currentPassword: current, newPassword: next } });
    await renewRestrictedSession();
    setDone(true);
    setCurrent("");
    setNext("");
  });
  return (
    <section className="card">
      <h2>Change password</h2>
      {done && <InfoNotice>Password changed. Your other sessions have ended.</InfoNotice>}
      <Form onSubmit={() => void action.run()} label="Change password">
        <Field label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <Field label="New password" type="password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} />
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.pending}>
          Change password
        </button>
      </Form>
    </section>
  );
}

function EmailVerification({ email }: { email: string }) {
  const [sent, setSent] = useState(false);
  const [resend] = useMutation(ResendVerificationEmailDocument);
  const action = useAction(async () => {
    await resend();
    setSent(true);
  });
  return (
    <section className="card">
      <h2>Email address</h2>
      <p>{email} is not verified yet: open the link we emailed you.</p>
      {sent && <InfoNotice>A new link is on its way.</InfoNotice>}
      <ErrorNotice message={action.error} />
      <button type="button" onClick={() => void action.run()} disabled={action.pending}>
        Send the link again
      </button>
    </section>
  );
}
