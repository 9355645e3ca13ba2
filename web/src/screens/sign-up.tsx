import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { session, startPage } from "../auth/session";
import { ErrorNotice, Field, Form, useAction } from "../components/forms";
import { SignUpDocument } from "../generated/graphql";
import { Link, navigate } from "../router";

export function SignUp() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [signUp] = useMutation(SignUpDocument);
  const action = useAction(async () => {
    const { data } = await signUp({ variables: { input: { email, password, tokenDelivery: "COOKIE" } } });
    if (!data) return;
    session.signedIn(data.register);
    navigate(startPage(data.register), { replace: true });
  });
  return (
    <section className="card narrow">
      <h1>Create an account</h1>
      <Form onSubmit={() => void action.run()}>
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 10 characters; common or predictable passwords are refused."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorNotice message={action.error} />
        <button type="submit" disabled={action.pending}>
          Create account
        </button>
      </Form>
      <p className="links">
        Already registered? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
