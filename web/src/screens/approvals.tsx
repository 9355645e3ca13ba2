import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { ErrorNotice, InfoNotice, useAction } from "../components/forms";
import { errorMessage } from "../errors";
import { ApproveActionDocument, PendingApprovalsDocument, RejectActionDocument } from "../generated/graphql";
import { ActionTable } from "./agent-detail";

/** Actions held for an approver (actions:approve). An owner cannot approve their own agents' actions. */
export function Approvals({ userId }: { userId: string }) {
  const pending = useQuery(PendingApprovalsDocument, { fetchPolicy: "cache-and-network" });
  const [approve] = useMutation(ApproveActionDocument);
  const [reject] = useMutation(RejectActionDocument);
  const [outcome, setOutcome] = useState<string | null>(null);
  const decide = useAction(async (id: string, verdict: "approve" | "reject") => {
    const result =
      verdict === "approve" ? (await approve({ variables: { id } })).data?.approveAgentAction : (await reject({ variables: { id } })).data?.rejectAgentAction;
    if (result) setOutcome(`${result.action}: ${result.status.replace("_", " ").toLowerCase()}${result.status === "DENIED" ? ` (${result.reasons.map((r) => r.message).join("; ")})` : ""}.`);
    await pending.refetch();
  });
  const actions = pending.data?.agentActions.edges.map((edge) => edge.node) ?? [];
  const ownerOf = new Map(pending.data?.agentActions.edges.map((edge) => [edge.node.id, edge.node.ownerId]) ?? []);
  return (
    <>
      <h1>Approvals</h1>
      <section className="card">
        <p>Actions agents are waiting on. Approving re-checks the action against the spend of now; it may still be denied.</p>
        {outcome && <InfoNotice>{outcome}</InfoNotice>}
        <ErrorNotice message={decide.error ?? (pending.error ? errorMessage(pending.error) : null)} />
        <ActionTable
          actions={actions}
          empty="Nothing is waiting for approval."
          controls={(action) =>
            ownerOf.get(action.id) === userId ? (
              <span className="hint">Your agent: another approver decides</span>
            ) : (
              <span className="buttons">
                <button type="button" aria-label={`Approve ${action.action}`} onClick={() => void decide.run(action.id, "approve")} disabled={decide.pending}>
                  Approve
                </button>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Reject ${action.action}`}
                  onClick={() => void decide.run(action.id, "reject")}
                  disabled={decide.pending}
                >
                  Reject
                </button>
              </span>
            )
          }
        />
      </section>
    </>
  );
}
