import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { ErrorNotice, Field, Form, useAction } from "../components/forms";
import { errorMessage } from "../errors";
import { formatTime } from "../format";
import { AgentsDocument, CreateAgentDocument } from "../generated/graphql";
import { Link, navigate } from "../router";

export function Agents() {
  const agents = useQuery(AgentsDocument, { fetchPolicy: "cache-and-network" });
  const [name, setName] = useState("");
  const [create] = useMutation(CreateAgentDocument);
  const action = useAction(async () => {
    const { data } = await create({ variables: { name } });
    if (data) navigate(`/agents/${data.createAgent.id}`);
  });
  const list = agents.data?.agents ?? [];
  return (
    <>
      <h1>Agents</h1>
      <section className="card">
        <ErrorNotice message={agents.error ? errorMessage(agents.error) : null} />
        {list.length === 0 && !agents.loading ? (
          <p>No agents yet. Create one, then give it an API key.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <Link to={`/agents/${agent.id}`}>{agent.name}</Link>
                  </td>
                  <td>{agent.status.toLowerCase()}</td>
                  <td>{formatTime(agent.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <h2>New agent</h2>
        <Form onSubmit={() => void action.run()} label="New agent">
          <Field label="Agent name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          <ErrorNotice message={action.error} />
          <button type="submit" disabled={action.pending}>
            Create agent
          </button>
        </Form>
      </section>
    </>
  );
}
