-- A decision's action row (its record) and audit row (its details) are 2-4 KB: past the
-- default TOAST target (~2 KB), so PostgreSQL compressed them with pglz while the decision
-- batch held its hot counter locks. Rows up to a page now stay inline and uncompressed:
-- a little more disk and WAL, no compression on the hot path.
ALTER TABLE "agent_actions" SET (toast_tuple_target = 8160);--> statement-breakpoint
ALTER TABLE "audit_events" SET (toast_tuple_target = 8160);
