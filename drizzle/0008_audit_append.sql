-- One round trip to append a chained audit row (src/audit/audit-recorder.ts). Under the chain
-- lock (transaction-scoped, held until commit) it reads the newest row's hash and inserts the
-- new row with prev_hash = that hash and hash = SHA-256(prev_hash || canonical content). The
-- canonical content is computed by the application (src/audit/audit-chain.ts) and hashed
-- here exactly as the verifier hashes it. The function is VOLATILE, so in READ COMMITTED the
-- SELECT takes its snapshot after the lock is granted and sees the previous append.
CREATE OR REPLACE FUNCTION audit_append(
  p_lock_key bigint,
  p_id uuid,
  p_occurred_at timestamptz,
  p_actor_type audit_actor_type,
  p_actor_id text,
  p_action text,
  p_target_type text,
  p_target_id text,
  p_outcome audit_outcome,
  p_ip text,
  p_user_agent text,
  p_request_id text,
  p_details jsonb,
  p_canonical text
) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  previous text;
  chained text;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key);
  SELECT hash INTO previous FROM audit_events ORDER BY seq DESC LIMIT 1;
  chained := encode(sha256(convert_to(coalesce(previous, '') || p_canonical, 'UTF8')), 'hex');
  INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, request_id, details, prev_hash, hash)
  VALUES (p_id, p_occurred_at, p_actor_type, p_actor_id, p_action, p_target_type, p_target_id, p_outcome, p_ip, p_user_agent, p_request_id, p_details, previous, chained);
  RETURN chained;
END
$$;
