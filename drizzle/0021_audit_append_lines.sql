-- Appends chained audit rows from their canonical lines alone (src/audit/audit-chain.ts): one
-- line per row, in order, each the JSON array the row's hash covers ("audit-v1", id,
-- occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent,
-- request_id, details). The columns are read out of the very text that is hashed, so a row
-- cannot store one thing and hash another, and the details cross the wire once instead of
-- twice (audit_append_batch took every column beside the canonical text). Same lock, head
-- read and chaining as audit_append_batch (0009), which stays for processes of the previous
-- release during a rolling upgrade.
CREATE OR REPLACE FUNCTION audit_append_lines(p_lock_key bigint, p_lines text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  line text;
  c jsonb;
  previous text;
  chained text;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key);
  SELECT hash INTO previous FROM audit_events ORDER BY seq DESC LIMIT 1;
  FOREACH line IN ARRAY string_to_array(p_lines, E'\n') LOOP
    c := line::jsonb;
    IF jsonb_typeof(c) IS DISTINCT FROM 'array' THEN
      RAISE EXCEPTION 'audit_append_lines: a line is not an audit-v1 canonical row';
    END IF;
    IF jsonb_array_length(c) <> 13 OR c->>0 IS DISTINCT FROM 'audit-v1' THEN
      RAISE EXCEPTION 'audit_append_lines: a line is not an audit-v1 canonical row';
    END IF;
    chained := encode(sha256(convert_to(coalesce(previous, '') || line, 'UTF8')), 'hex');
    INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, request_id, details, prev_hash, hash)
    VALUES ((c->>1)::uuid, (c->>2)::timestamptz, (c->>3)::audit_actor_type, c->>4, c->>5,
      c->>6, c->>7, (c->>8)::audit_outcome, c->>9, c->>10, c->>11, c->12,
      previous, chained);
    previous := chained;
  END LOOP;
  RETURN previous;
END
$$;
