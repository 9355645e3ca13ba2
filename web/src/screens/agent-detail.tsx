import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { CopyButton } from "../components/copy-button";
import { ErrorNotice, Field, Form, useAction } from "../components/forms";
import { SpendChart } from "../components/spend-chart";
import { errorMessage } from "../errors";
import { formatMoney, formatTime } from "../format";
import { AgentActionsDocument, AgentDetailDocument, CreateAgentKeyDocument, RevokeAgentKeyDocument, type ActionRowFragment } from "../generated/graphql";
import { Link } from "../router";

/** One agent: its API keys, its spend against its caps, and what it did with the decisions taken. */
export function AgentDetail({ id }: { id: string }) {
  const detail = useQuery(AgentDetailDocument, { variables: { id }, fetchPolicy: "cache-and-network" });
  const actions = useQuery(AgentActionsDocument, { variables: { agentId: id }, fetchPolicy: "cache-and-network" });
  if (detail.error && !detail.data) return <ErrorNotice message={errorMessage(detail.error)} />;
  if (!detail.data) return <p>Loading…</p>;
  const { agent, agentApiKeys, spendReport } = detail.data;
  const refresh = () => {
    void detail.refetch();
    void actions.refetch();
  };
  return (
    <>
      <p className="links">
        <Link to="/agents">← Agents</Link>
      </p>
      <h1>{agent.name}</h1>
      <p>
        Status: {agent.status.toLowerCase()} · created {formatTime(agent.createdAt)}
      </p>
      <ApiKeys agentId={id} keys={agentApiKeys} onChange={() => void detail.refetch()} />
      <section className="card">
        <h2>Spend</h2>
        <SpendChart windows={spendReport.windows} />
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </section>
      <section className="card">
        <h2>Actions</h2>
        <ErrorNotice message={actions.error ? errorMessage(actions.error) : null} />
        <ActionTable
          actions={actions.data?.agentActions.edges.map((edge) => edge.node) ?? []}
          empty="No actions yet: they appear here once the agent submits them."
        />
        {actions.data && actions.data.agentActions.totalCount > actions.data.agentActions.edges.length && (
          <p className="hint">The newest {actions.data.agentActions.edges.length} of {actions.data.agentActions.totalCount}.</p>
        )}
      </section>
    </>
  );
}

type Key = { id: string; name?: string | null; prefix: string; createdAt: string; lastUsedAt?: string | null; revokedAt?: string | null };

function ApiKeys({ agentId, keys, onChange }: { agentId: string; keys: readonly Key[]; onChange: () => void }) {
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [createKey] = useMutation(CreateAgentKeyDocument);
  const [revokeKey] = useMutation(RevokeAgentKeyDocument);
  const create = useAction(async () => {
    const { data } = await createKey({ variables: { agentId, name: name || null } });
    if (!data) return;
    setCreated(data.createAgentApiKey.key);
    setName("");
    onChange();
  });
  const revoke = useAction(async (keyId: string) => {
    await revokeKey({ variables: { id: keyId } });
    onChange();
  });
  return (
    <section className="card">
      <h2>API keys</h2>
      {created && (
        <div className="new-key" role="region" aria-label="New API key">
          <p>
            <strong>Copy this key now: it is shown only once.</strong> The agent sends it as <code>Authorization: Bearer …</code>.
          </p>
          <p>
            <code className="secret" aria-label="API key">
              {created}
            </code>
          </p>
          <CopyButton text={created} label="Copy key" />{" "}
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <ErrorNotice message={revoke.error} />
      {keys.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name ?? "–"}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{formatTime(key.createdAt)}</td>
                <td>{formatTime(key.lastUsedAt)}</td>
                <td>
                  {key.revokedAt ? (
                    "revoked"
                  ) : (
                    <button type="button" onClick={() => void revoke.run(key.id)} disabled={revoke.pending}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Form onSubmit={() => void create.run()} label="New API key">
        <Field label="Key name" hint="Optional, to tell keys apart (e.g. prod)." maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        <ErrorNotice message={create.error} />
        <button type="submit" disabled={create.pending}>
          Create key
        </button>
      </Form>
    </section>
  );
}

/** Actions with the decision taken and its reasons; `actions` renders per row (approve, reject). */
export function ActionTable({
  actions,
  empty,
  controls,
}: {
  actions: readonly ActionRowFragment[];
  empty: string;
  controls?: (action: ActionRowFragment) => React.ReactNode;
}) {
  if (actions.length === 0) return <p>{empty}</p>;
  return (
    <table className="actions">
      <thead>
        <tr>
          <th scope="col">Action</th>
          <th scope="col">Cost</th>
          <th scope="col">Decision</th>
          <th scope="col">Status</th>
          <th scope="col">Reasons</th>
          <th scope="col">Decided</th>
          {controls && (
            <th scope="col">
              <span className="visually-hidden">Decide</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {actions.map((action) => (
          <tr key={action.id} aria-label={`${action.action} ${action.status.toLowerCase().replace("_", " ")}`}>
            <td>
              <code>{action.action}</code>
              {action.resource && <div className="hint">{action.resource}</div>}
            </td>
            <td>
              {formatMoney(action.actualCost ?? action.estimatedCost)}
              {!action.actualCost && <div className="hint">estimate</div>}
            </td>
            <td>
              <span className={`badge decision-${action.decision.toLowerCase()}`}>{action.decision.replace("_", " ").toLowerCase()}</span>
            </td>
            <td>{action.status.replace("_", " ").toLowerCase()}</td>
            <td>
              <ul className="reasons">
                {action.reasons.map((reason, index) => (
                  <li key={index}>{reason.message}</li>
                ))}
              </ul>
            </td>
            <td>{formatTime(action.decidedAt)}</td>
            {controls && <td>{controls(action)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
