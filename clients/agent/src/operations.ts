/**
 * The public operations this client sends, written against the server's `schema.graphql`.
 * Every action operation asks for the same fields, so each answer is one `AgentAction`.
 */
const ACTION_FIELDS = `
  id action resource status decision estimatedCost actualCost reserved overrun settledLate
  idempotencyKey runId metadata decidedAt expiresAt resolvedAt
  reasons { code message scope per window counter limit spent cost pattern policyId policyVersion ruleId capId authority }`;

const RUN_FIELDS = `id agentId name threadId status startedAt finishedAt output`;

export const SUBMIT = `mutation Submit($input: AgentActionInput!) { submitAgentAction(input: $input) { ${ACTION_FIELDS} } }`;

export const SETTLE = `mutation Settle($id: ID!, $actualCost: Money!) { settleAgentAction(id: $id, actualCost: $actualCost) { ${ACTION_FIELDS} } }`;

export const CANCEL = `mutation Cancel($id: ID!) { cancelAgentAction(id: $id) { ${ACTION_FIELDS} } }`;

/** The agent's own actions of one name decided since a moment, newest first: where a held action is found again. */
export const MY_ACTIONS = `query MyActions($filter: AgentActionFilter, $first: Int, $after: String) {
  myAgentActions(filter: $filter, first: $first, after: $after) {
    edges { node { ${ACTION_FIELDS} } }
    pageInfo { hasNextPage endCursor } } }`;

export const START_RUN = `mutation StartRun($input: StartRunInput!) { startRun(input: $input) { ${RUN_FIELDS} } }`;

export const FINISH_RUN = `mutation FinishRun($id: ID!, $status: RunResult!, $output: JSON) {
  finishRun(id: $id, status: $status, output: $output) { ${RUN_FIELDS} } }`;
