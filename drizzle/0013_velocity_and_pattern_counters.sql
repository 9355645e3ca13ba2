ALTER TABLE "spend_counters" ADD COLUMN "measure" text;--> statement-breakpoint
ALTER TABLE "spend_counters" ADD COLUMN "pattern" text;