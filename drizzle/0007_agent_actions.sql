CREATE TYPE "public"."action_outcome" AS ENUM('ALLOWED', 'DENIED', 'PENDING_APPROVAL');--> statement-breakpoint
CREATE TYPE "public"."action_status" AS ENUM('RESERVED', 'SETTLED', 'CANCELLED', 'EXPIRED', 'PENDING_APPROVAL', 'REJECTED', 'DENIED');--> statement-breakpoint
CREATE TABLE "agent_actions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"action" text NOT NULL,
	"resource" text,
	"estimated_cost" bigint NOT NULL,
	"actual_cost" bigint,
	"metadata" jsonb,
	"idempotency_key" text,
	"input_hash" text NOT NULL,
	"outcome" "action_outcome" NOT NULL,
	"status" "action_status" NOT NULL,
	"shadow_outcome" "action_outcome",
	"reasons" jsonb NOT NULL,
	"record" jsonb NOT NULL,
	"counter_keys" text[] DEFAULT '{}'::text[] NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"overrun" boolean DEFAULT false NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"resolved_by" uuid,
	CONSTRAINT "agent_actions_costs_check" CHECK ("agent_actions"."estimated_cost" >= 0 AND ("agent_actions"."actual_cost" IS NULL OR "agent_actions"."actual_cost" >= 0) AND "agent_actions"."reserved" >= 0)
);
--> statement-breakpoint
CREATE TABLE "spend_counters" (
	"key" text PRIMARY KEY NOT NULL,
	"per" text NOT NULL,
	"window" text NOT NULL,
	"subject" text NOT NULL,
	"window_start" timestamp with time zone,
	"window_end" timestamp with time zone,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"settled" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "spend_counters_amounts_check" CHECK ("spend_counters"."reserved" >= 0 AND "spend_counters"."settled" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agent_actions" ADD CONSTRAINT "agent_actions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_actions_idempotency_key" ON "agent_actions" USING btree ("agent_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "agent_actions_agent_idx" ON "agent_actions" USING btree ("agent_id","decided_at");--> statement-breakpoint
CREATE INDEX "agent_actions_owner_idx" ON "agent_actions" USING btree ("owner_id","decided_at");--> statement-breakpoint
CREATE INDEX "agent_actions_decided_idx" ON "agent_actions" USING btree ("decided_at");--> statement-breakpoint
CREATE INDEX "agent_actions_due_idx" ON "agent_actions" USING btree ("expires_at") WHERE "agent_actions"."status" IN ('RESERVED', 'PENDING_APPROVAL');--> statement-breakpoint
CREATE INDEX "spend_counters_subject_idx" ON "spend_counters" USING btree ("per","subject","window");