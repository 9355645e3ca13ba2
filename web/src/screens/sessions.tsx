import { useMutation, useQuery } from "@apollo/client/react";
import { ErrorNotice, InfoNotice, useAction } from "../components/forms";
import { errorMessage } from "../errors";
import { formatTime } from "../format";
import { RevokeOtherSessionsDocument, RevokeSessionDocument, SessionsDocument, type SessionsQuery } from "../generated/graphql";
import { useState } from "react";

type Session = SessionsQuery["sessions"][number];

/** Where the account is signed in; end one session, or every one but this. */
export function Sessions() {
  const sessions = useQuery(SessionsDocument, { fetchPolicy: "cache-and-network" });
  const [revoke] = useMutation(RevokeSessionDocument);
  const [revokeOthers] = useMutation(RevokeOtherSessionsDocument);
  const [ended, setEnded] = useState<string | null>(null);
  const endOne = useAction(async (session: Session) => {
    await revoke({ variables: { id: session.id } });
    setEnded("The session has ended.");
    await sessions.refetch();
  });
  const endOthers = useAction(async () => {
    const { data } = await revokeOthers();
    setEnded(`Signed out everywhere else (${data?.revokeOtherSessions ?? 0} ${data?.revokeOtherSessions === 1 ? "session" : "sessions"}).`);
    await sessions.refetch();
  });
  const active = (sessions.data?.sessions ?? []).filter((session) => session.active);
  return (
    <>
      <h1>Sessions</h1>
      <section className="card">
        <p>Each sign-in is a session. End any you do not recognise.</p>
        {ended && <InfoNotice>{ended}</InfoNotice>}
        <ErrorNotice message={endOne.error ?? endOthers.error ?? (sessions.error ? errorMessage(sessions.error) : null)} />
        <table>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Address</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {active.map((session) => (
              <tr key={session.id} aria-label={`Session from ${describeAgent(session.userAgent)}`}>
                <td>
                  {describeAgent(session.userAgent)}
                  {session.current && <> <span className="badge">this session</span></>}
                </td>
                <td>{session.ip ?? "–"}</td>
                <td>{formatTime(session.createdAt)}</td>
                <td>{formatTime(session.lastUsedAt)}</td>
                <td>
                  {!session.current && (
                    <button type="button" onClick={() => void endOne.run(session)} disabled={endOne.pending}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => void endOthers.run()} disabled={endOthers.pending || active.length < 2}>
          Sign out everywhere else
        </button>
      </section>
    </>
  );
}

/** A short name for a user agent string: the browser and system people recognise. */
function describeAgent(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[1]?.replace("Edg", "Edge") ?? userAgent.split(/[\s/]/)[0] ?? "Unknown";
  const system = /\(([^;)]+)/.exec(userAgent)?.[1];
  return system ? `${browser} on ${system}` : browser;
}
