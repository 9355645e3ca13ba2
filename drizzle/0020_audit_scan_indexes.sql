DROP INDEX "audit_events_occurred_idx";--> statement-breakpoint
CREATE INDEX "audit_events_unsuccessful_idx" ON "audit_events" USING btree ("outcome","seq") WHERE "audit_events"."outcome" <> 'success';--> statement-breakpoint
CREATE INDEX "audit_events_occurred_idx" ON "audit_events" USING btree ("occurred_at","seq");