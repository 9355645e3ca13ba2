-- Trigram indexes for the users search (a substring of email, username or display name).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "users_email_order_idx" ON "users" USING btree (lower("email"),"id") WHERE "users"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "users_last_login_order_idx" ON "users" USING btree (coalesce("last_login_at", '1970-01-01T00:00:00Z'::timestamptz),"id");--> statement-breakpoint
CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "users_username_trgm_idx" ON "users" USING gin ("username" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "users_display_name_trgm_idx" ON "users" USING gin ("display_name" gin_trgm_ops);