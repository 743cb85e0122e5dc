CREATE TABLE "deferral_releases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"entry_id" bigint NOT NULL,
	"deferral" text NOT NULL,
	"rule" text NOT NULL,
	"released_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "deferral_releases_entry_uq" ON "deferral_releases" USING btree ("entry_id");--> statement-breakpoint
CREATE INDEX "audit_entries_lookups_by_actor_idx" ON "audit_entries" USING btree ("actor_partner","actor_sub","at","id") WHERE action = 'lookup' and outcome = 'allowed';--> statement-breakpoint
CREATE INDEX "audit_entries_refusals_by_actor_idx" ON "audit_entries" USING btree ("actor_partner","actor_sub","at","id") WHERE outcome in ('denied', 'rejected');--> statement-breakpoint
CREATE INDEX "audit_entries_follow_ups_idx" ON "audit_entries" USING btree ("subject","actor_partner","at") WHERE action in ('registration.create', 'match.created', 'disclosure.requested');--> statement-breakpoint
CREATE INDEX "audit_entries_break_glass_idx" ON "audit_entries" USING btree ("action","at") WHERE action in ('disclosure.break-glass', 'disclosure.overdue');--> statement-breakpoint
-- Statistics for what this migration built (the partial indexes' predicates and the new table), so the planner has them at once even where autovacuum is off.
ANALYZE "audit_entries";--> statement-breakpoint
ANALYZE "deferral_releases";
