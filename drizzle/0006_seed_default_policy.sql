-- The default GLOBAL policy: enabled, enforcing, no rules and no caps. With no matching rule
-- an action is denied (DESIGN.md, Governance, rule 2), so a fresh server denies every agent
-- action until someone writes an ALLOW. It is the one place for rules meant for every agent;
-- built_in keeps it from being deleted (it can be edited, disabled or put in SHADOW mode).
-- The id is fixed (src/policies/policy-codec.ts, DEFAULT_POLICY_ID) so the seed is idempotent.
-- Version 1 is written whole, as for any created policy; seeds are not audited (as the roles).
INSERT INTO "policies" ("id", "name", "scope", "scope_id", "enabled", "mode", "version", "built_in", "rules", "caps")
VALUES ('00000000-0000-4000-8000-000000000001', 'Default', 'GLOBAL', NULL, true, 'ENFORCE', 1, true, '[]'::jsonb, '[]'::jsonb)
ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
INSERT INTO "policy_versions" ("policy_id", "version", "change", "snapshot", "changed_by", "changed_at")
SELECT p."id", p."version", 'CREATED', jsonb_build_object(
    'id', p."id", 'name', p."name", 'scope', p."scope", 'scopeId', p."scope_id", 'enabled', p."enabled",
    'mode', p."mode", 'version', p."version", 'builtIn', p."built_in", 'rules', p."rules", 'caps', p."caps",
    'createdAt', to_char(p."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'createdBy', NULL,
    'updatedAt', to_char(p."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'updatedBy', NULL,
    'deletedAt', NULL),
  NULL, p."created_at"
FROM "policies" p
WHERE p."id" = '00000000-0000-4000-8000-000000000001'
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Versions are history: the database refuses to change or remove one (as for audit_events).
CREATE OR REPLACE FUNCTION "policy_versions_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'policy_versions is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "policy_versions_no_update_delete"
  BEFORE UPDATE OR DELETE ON "policy_versions"
  FOR EACH ROW EXECUTE FUNCTION "policy_versions_refuse_change"();
