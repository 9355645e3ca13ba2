-- Built-in roles (names and permission sets mirror src/auth/roles.ts; a test compares them).
INSERT INTO "roles" ("name", "description", "permissions", "built_in") VALUES
  ('USER', 'Every account: own profile, sessions and agents', '{}', true),
  ('MANAGER', 'Oversees people and their agents; approves held agent actions', '{users:read,agents:read,policies:read,spend:read,actions:approve}', true),
  ('COMPLIANCE_OFFICER', 'Reads and exports the audit trail and spend reports', '{users:read,audit:read,audit:export,agents:read,policies:read,spend:read}', true),
  ('ADMIN', 'Runs the server: users, roles, agents and policies', '{users:write,roles:read,roles:write,agents:write,policies:write}', true)
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_inherits" ("role_name", "parent_name") VALUES
  ('MANAGER', 'USER'),
  ('COMPLIANCE_OFFICER', 'USER'),
  ('ADMIN', 'MANAGER'),
  ('ADMIN', 'COMPLIANCE_OFFICER')
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- The audit trail is append-only: the database itself refuses to change or remove a row.
CREATE OR REPLACE FUNCTION "audit_events_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_events_no_update_delete"
  BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_refuse_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_events_no_truncate"
  BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_refuse_change"();
