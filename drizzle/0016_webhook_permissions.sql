-- The built-in ADMIN role gains webhooks:read and webhooks:write (src/auth/roles.ts): reading
-- and managing webhook endpoints and their delivery log. Idempotent; custom roles are left as
-- they are.
UPDATE "roles" SET "permissions" = array_append("permissions", 'webhooks:read')
WHERE "name" = 'ADMIN' AND "built_in" AND NOT ('webhooks:read' = ANY("permissions"));--> statement-breakpoint
UPDATE "roles" SET "permissions" = array_append("permissions", 'webhooks:write')
WHERE "name" = 'ADMIN' AND "built_in" AND NOT ('webhooks:write' = ANY("permissions"));
