CREATE TYPE "public"."run_status" AS ENUM('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"thread_id" text,
	"name" text NOT NULL,
	"instructions" text,
	"initial_data" jsonb,
	"metadata" jsonb,
	"input_hash" text NOT NULL,
	"status" "run_status" NOT NULL,
	"output" jsonb,
	"started_by_type" text NOT NULL,
	"started_by_id" uuid NOT NULL,
	"rerun_of" uuid,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_actions" ADD COLUMN "run_id" uuid;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_rerun_of_runs_id_fk" FOREIGN KEY ("rerun_of") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "runs_owner_thread_key" ON "runs" USING btree ("owner_id","thread_id") WHERE "runs"."thread_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "runs_owner_idx" ON "runs" USING btree ("owner_id","started_at");--> statement-breakpoint
CREATE INDEX "runs_agent_idx" ON "runs" USING btree ("agent_id","started_at");--> statement-breakpoint
CREATE INDEX "runs_started_idx" ON "runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "runs_rerun_of_idx" ON "runs" USING btree ("rerun_of");--> statement-breakpoint
ALTER TABLE "agent_actions" ADD CONSTRAINT "agent_actions_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_actions_run_idx" ON "agent_actions" USING btree ("run_id","decided_at");--> statement-breakpoint
-- The built-in roles gain the run permissions (src/auth/roles.ts): COMPLIANCE_OFFICER reads
-- every run (runs:read; ADMIN inherits it), ADMIN also cancels any (runs:write). Idempotent;
-- custom roles are left as they are.
UPDATE "roles" SET "permissions" = array_append("permissions", 'runs:read')
WHERE "name" = 'COMPLIANCE_OFFICER' AND "built_in" AND NOT ('runs:read' = ANY("permissions"));--> statement-breakpoint
UPDATE "roles" SET "permissions" = array_append("permissions", 'runs:write')
WHERE "name" = 'ADMIN' AND "built_in" AND NOT ('runs:write' = ANY("permissions"));--> statement-breakpoint
-- A finished run takes no new actions, on every path that writes one. The run row is locked
-- FOR SHARE until the inserting transaction ends, so a finishRun (which updates that row)
-- either commits first, and the action is refused here (SQLSTATE RN001), or waits until the
-- action has committed, which then counts as taken before the run finished.
CREATE FUNCTION agent_actions_open_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM runs WHERE id = NEW.run_id AND finished_at IS NULL FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the run is finished' USING ERRCODE = 'RN001';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER agent_actions_open_run BEFORE INSERT ON agent_actions
FOR EACH ROW WHEN (NEW.run_id IS NOT NULL) EXECUTE FUNCTION agent_actions_open_run();
