-- Appends several chained audit rows in one call, in array order, under the chain lock (see
-- 0008_audit_append.sql): the decisions of one batch of agent actions commit together, so
-- their audit rows are written together too. Each element carries the row's columns and
-- its canonical content (src/audit/audit-chain.ts); each row chains to the one before it.
CREATE OR REPLACE FUNCTION audit_append_batch(p_lock_key bigint, p_rows jsonb) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r jsonb;
  previous text;
  chained text;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key);
  SELECT hash INTO previous FROM audit_events ORDER BY seq DESC LIMIT 1;
  FOR r IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
    chained := encode(sha256(convert_to(coalesce(previous, '') || (r->>'canonical'), 'UTF8')), 'hex');
    INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, request_id, details, prev_hash, hash)
    VALUES ((r->>'id')::uuid, (r->>'occurredAt')::timestamptz, (r->>'actorType')::audit_actor_type, r->>'actorId', r->>'action',
      r->>'targetType', r->>'targetId', (r->>'outcome')::audit_outcome, r->>'ip', r->>'userAgent', r->>'requestId', r->'details',
      previous, chained);
    previous := chained;
  END LOOP;
  RETURN previous;
END
$$;
