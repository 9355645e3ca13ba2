CREATE TYPE "public"."policy_authority" AS ENUM('OVERRIDE', 'RESTRICTION');--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "authority" "policy_authority" DEFAULT 'OVERRIDE' NOT NULL;--> statement-breakpoint
-- Which existing policies are restriction layers (DESIGN.md, Governance, rule 4). Who wrote
-- them is recorded (created_by, updated_by), with what permissions is not, so the rule is
-- the safe one: a live AGENT policy keeps override power only when every user who wrote it
-- (its creator and its last writer) holds policies:write now, through any role including
-- inherited ones and USER, which everyone holds. Any other live AGENT policy becomes a
-- RESTRICTION: one an owner wrote, one whose writer is gone or unknown, and one an
-- administrator wrote who has lost policies:write since. A restriction is never looser than
-- the same policy as an override, so a wrong guess in this direction can only deny more.
-- GLOBAL, ROLE and USER policies stay OVERRIDE: only policies:write could ever write them.
-- Each policy made a RESTRICTION gets a new version (change UPDATED, by no user, as seeds
-- are), so decisions recorded against its earlier versions still replay as they were taken.
WITH RECURSIVE held(user_id, role_name) AS (
  SELECT u."id", 'USER'::text FROM "users" u
  UNION
  SELECT ur."user_id", ur."role_name" FROM "user_roles" ur
  UNION
  SELECT h.user_id, ri."parent_name" FROM held h JOIN "role_inherits" ri ON ri."role_name" = h.role_name
),
writers AS (
  SELECT DISTINCT h.user_id FROM held h JOIN "roles" r ON r."name" = h.role_name
  WHERE 'policies:write' = ANY(r."permissions")
),
changed AS (
  UPDATE "policies" p
  SET "authority" = 'RESTRICTION', "version" = p."version" + 1, "updated_at" = now(), "updated_by" = NULL
  WHERE p."scope" = 'AGENT' AND p."deleted_at" IS NULL
    AND NOT (
      p."created_by" IS NOT NULL AND p."created_by" IN (SELECT user_id FROM writers)
      AND (p."updated_by" IS NULL OR p."updated_by" IN (SELECT user_id FROM writers))
    )
  RETURNING p.*
)
INSERT INTO "policy_versions" ("policy_id", "version", "change", "snapshot", "changed_by", "changed_at")
SELECT c."id", c."version", 'UPDATED', jsonb_build_object(
    'id', c."id", 'name', c."name", 'scope', c."scope", 'scopeId', c."scope_id", 'enabled', c."enabled",
    'mode', c."mode", 'authority', c."authority", 'version', c."version", 'builtIn', c."built_in",
    'rules', c."rules", 'caps', c."caps",
    'createdAt', to_char(c."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'createdBy', c."created_by",
    'updatedAt', to_char(c."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'updatedBy', NULL,
    'deletedAt', NULL),
  NULL, c."updated_at"
FROM changed c;
