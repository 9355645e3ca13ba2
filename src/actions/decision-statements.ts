/**
 * The statements of the decision transaction (decision-batcher.ts), written for flights
 * (db/flights.ts): fixed text, so each is prepared once per connection, with JSON
 * parameters. Numbers come back as text (PGlite would return int8 as a float).
 */
import { AUDIT_CHAIN_LOCK_KEY } from "../audit/audit-recorder";
import type { Statement } from "../db/flights";
import type { Money } from "../policy/policy-types";
import type { CapCheck } from "../policy/decision-types";
import { thresholdCrossings, type ThresholdCrossing } from "../policy/thresholds";
import type { ActionRow } from "./action.repository";

/**
 * Locks the existing rows of these counters in key order (code-unit order, as everywhere a
 * counter is locked, so two transactions cannot deadlock) and returns their spend. A
 * missing counter is absent from the result.
 */
export function lockCountersStatement(keys: readonly string[]): Statement {
  return {
    text: `SELECT key, (reserved + settled)::text AS spend FROM spend_counters
      WHERE key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) ORDER BY key COLLATE "C" FOR UPDATE`,
    // A JSON array, not a text[] parameter: the drivers' clients do not fetch array types (database.ts).
    params: [[...keys]],
  };
}

/** The ids of the actions of these (agent, idempotency key) pairs that exist. */
export function existingKeysStatement(pairs: readonly { agentId: string; key: string }[]): Statement {
  return {
    text: `SELECT a.id::text AS id, a.agent_id::text AS agent_id, a.idempotency_key
      FROM agent_actions a JOIN jsonb_to_recordset($1::jsonb) AS p(agent_id uuid, key text)
        ON a.agent_id = p.agent_id AND a.idempotency_key = p.key`,
    params: [pairs.map((pair) => ({ agent_id: pair.agentId, key: pair.key }))],
  };
}

/**
 * Writes a batch of decided actions, charges their reservations (`charges`: per counter,
 * summed over the batch, the amount to reserve and, on a velocity counter, the actions to
 * count as settled at once) and appends their audit rows (`auditLines`, from the recorder's
 * function of that name) in ONE statement, so the counter locks are held for that statement
 * and the commit that travels with it. The caller has checked idempotency keys under the locks.
 */
export function writeDecisionsStatement(
  rows: readonly ActionRow[],
  charges: ReadonlyMap<string, { amount: Money; count: Money }>,
  now: Date,
  auditLines: string,
  crossings: readonly ActionCrossing[] = [],
): Statement {
  const actions = rows.map((row) => ({
    id: row.id,
    agent_id: row.agentId,
    owner_id: row.ownerId,
    action: row.action,
    resource: row.resource,
    estimated_cost: row.estimatedCost.toString(),
    metadata: row.metadata,
    idempotency_key: row.idempotencyKey,
    input_hash: row.inputHash,
    outcome: row.outcome,
    status: row.status,
    shadow_outcome: row.shadowOutcome,
    reasons: row.reasons,
    record: row.record,
    counter_keys: row.counterKeys,
    reserved: row.reserved.toString(),
    decided_at: row.decidedAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    run_id: row.runId,
  }));
  const amounts = [...charges.entries()]
    .filter(([, charge]) => charge.amount > 0n || charge.count > 0n)
    .map(([key, charge]) => ({ key, amount: charge.amount.toString(), count: charge.count.toString() }));
  return {
    text: `
    WITH inserted AS (
      INSERT INTO agent_actions (id, agent_id, owner_id, action, resource, estimated_cost, metadata, idempotency_key, input_hash,
        outcome, status, shadow_outcome, reasons, record, counter_keys, reserved, decided_at, expires_at, run_id)
      SELECT id, agent_id, owner_id, action, resource, estimated_cost, metadata, idempotency_key, input_hash,
        outcome, status, shadow_outcome, reasons, record, counter_keys, reserved, decided_at, expires_at, run_id
      FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, agent_id uuid, owner_id uuid, action text,
        resource text, estimated_cost bigint, metadata jsonb, idempotency_key text, input_hash text, outcome action_outcome,
        status action_status, shadow_outcome action_outcome, reasons jsonb, record jsonb, counter_keys text[], reserved bigint,
        decided_at timestamptz, expires_at timestamptz, run_id uuid)
      RETURNING id
    ), charged AS (
      UPDATE spend_counters AS c SET reserved = c.reserved + v.amount, settled = c.settled + v.count, updated_at = $3::timestamptz
      FROM jsonb_to_recordset($2::jsonb) AS v(key text, amount bigint, count bigint)
      WHERE c.key = v.key
      RETURNING c.key
    ), ${CROSSED_CTE}
    SELECT (SELECT count(*) FROM inserted)::text AS inserted, (SELECT count(*) FROM charged)::text AS charged,
      audit_append_lines($4::bigint, $5::text) AS chained, ${CROSSED_JSON} AS crossed`,
    params: [actions, amounts, now.toISOString(), AUDIT_CHAIN_LOCK_KEY, auditLines, crossingParam(crossings, now)],
  };
}

/** A threshold crossed by an allowed action (policy/thresholds.ts), with the action's ids. */
export interface ActionCrossing extends ThresholdCrossing {
  actionId: string;
  agentId: string;
  ownerId: string;
}

/** The crossings of an allowed decision's caps (policy/thresholds.ts), named for its action. */
export function actionCrossings(caps: readonly CapCheck[], row: Pick<ActionRow, "id" | "agentId" | "ownerId">): ActionCrossing[] {
  return thresholdCrossings(caps).map((crossing) => ({ ...crossing, actionId: row.id, agentId: row.agentId, ownerId: row.ownerId }));
}

/**
 * Records crossings once per (policy, cap, counter, threshold) and returns the ones recorded
 * now (`crossed`), the ones to notify; parameter $6.
 */
const CROSSED_CTE = `crossed AS (
      INSERT INTO spend_threshold_crossings (policy_id, cap_id, counter_key, threshold, per, "window", subject, "limit", spent,
        action_id, agent_id, owner_id, crossed_at)
      SELECT policy_id, cap_id, counter_key, threshold, per, "window", subject, "limit", spent, action_id, agent_id, owner_id, crossed_at
      FROM jsonb_to_recordset($6::jsonb) AS x(policy_id uuid, cap_id text, counter_key text, threshold int, per text, "window" text,
        subject text, "limit" bigint, spent bigint, action_id uuid, agent_id uuid, owner_id uuid, crossed_at timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING policy_id, cap_id, counter_key, threshold
    )`;
const CROSSED_JSON = `(SELECT coalesce(jsonb_agg(jsonb_build_object('policyId', policy_id, 'capId', cap_id, 'counterKey', counter_key,
      'threshold', threshold)), '[]'::jsonb) FROM crossed)`;

function crossingParam(crossings: readonly ActionCrossing[], now: Date) {
  return crossings.map((crossing) => ({
    policy_id: crossing.policyId,
    cap_id: crossing.capId,
    counter_key: crossing.counterKey,
    threshold: crossing.threshold,
    per: crossing.per,
    window: crossing.window,
    subject: crossing.subject,
    limit: crossing.limit.toString(),
    spent: crossing.spent.toString(),
    action_id: crossing.actionId,
    agent_id: crossing.agentId,
    owner_id: crossing.ownerId,
    crossed_at: now.toISOString(),
  }));
}

/** The crossings a write recorded now: those of `sent` that its `crossed` column (or RETURNING rows) names. */
export function recordedCrossings(sent: readonly ActionCrossing[], crossed: unknown): ActionCrossing[] {
  const names = new Set(
    (Array.isArray(crossed) ? crossed : []).map((entry: { policyId: string; capId: string; counterKey: string; threshold: number }) =>
      crossingId(entry),
    ),
  );
  return sent.filter((crossing) => names.has(crossingId(crossing)));
}

const crossingId = (crossing: { policyId: string; capId: string; counterKey: string; threshold: number }) =>
  `${crossing.policyId}\u0000${crossing.capId}\u0000${crossing.counterKey}\u0000${crossing.threshold}`;
