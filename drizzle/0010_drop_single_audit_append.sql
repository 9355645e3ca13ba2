-- Every audit append now goes through audit_append_batch (0009): a single change appends a
-- batch of one. The single-row twin from 0008 is no longer called.
DROP FUNCTION IF EXISTS audit_append(bigint, uuid, timestamptz, audit_actor_type, text, text, text, text, audit_outcome, text, text, text, jsonb, text);
