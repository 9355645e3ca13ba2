CREATE TABLE "spend_threshold_crossings" (
	"policy_id" uuid NOT NULL,
	"cap_id" text NOT NULL,
	"counter_key" text NOT NULL,
	"threshold" integer NOT NULL,
	"per" text NOT NULL,
	"window" text NOT NULL,
	"subject" text NOT NULL,
	"limit" bigint NOT NULL,
	"spent" bigint NOT NULL,
	"action_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"crossed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "spend_threshold_crossings_policy_id_cap_id_counter_key_threshold_pk" PRIMARY KEY("policy_id","cap_id","counter_key","threshold")
);
--> statement-breakpoint
ALTER TABLE "spend_counters" ADD COLUMN "measure" text;--> statement-breakpoint
ALTER TABLE "spend_counters" ADD COLUMN "pattern" text;