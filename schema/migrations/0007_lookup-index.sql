DROP INDEX "registrations_subject_idx";--> statement-breakpoint
DROP INDEX "registrations_active_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "registrations_active_uq" ON "registrations" USING btree ("subject","partner","category") WHERE ended_at is null;--> statement-breakpoint
-- Statistics for what this migration built, so the planner has them at once even where autovacuum is off.
ANALYZE "registrations";
