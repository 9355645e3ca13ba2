CREATE TABLE "spend_adjustments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"counter_key" text NOT NULL,
	"per" text NOT NULL,
	"window" text NOT NULL,
	"subject" text NOT NULL,
	"window_start" timestamp with time zone,
	"amount" bigint NOT NULL,
	"reason" text NOT NULL,
	"actor_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "spend_adjustments_amount_check" CHECK ("spend_adjustments"."amount" <> 0)
);
--> statement-breakpoint
CREATE INDEX "spend_adjustments_counter_idx" ON "spend_adjustments" USING btree ("counter_key");--> statement-breakpoint
CREATE INDEX "spend_adjustments_created_idx" ON "spend_adjustments" USING btree ("created_at","id");--> statement-breakpoint
-- The built-in ADMIN role gains spend:write (src/auth/roles.ts): releasing any agent's
-- reservations and posting spend adjustments. Idempotent; custom roles are left as they are.
UPDATE "roles" SET "permissions" = array_append("permissions", 'spend:write')
WHERE "name" = 'ADMIN' AND "built_in" AND NOT ('spend:write' = ANY("permissions"));
