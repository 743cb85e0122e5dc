DROP INDEX "matches_recipient_idx";--> statement-breakpoint
ALTER TABLE "log_head" ADD COLUMN "matches_sequenced" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "seq" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "matches_seq_uq" ON "matches" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "matches_unsequenced_idx" ON "matches" USING btree ("id") WHERE seq is null;--> statement-breakpoint
CREATE INDEX "matches_recipient_seq_idx" ON "matches" USING btree ("recipient","seq");--> statement-breakpoint
-- Notices that exist already keep the cursors partners hold: the feed returns seq >= after, and
-- cursors were ids (after = the last id seen), so seq = id - 1; new notices continue after every id
-- ever taken (also one whose notice the purge deleted since).
UPDATE "matches" SET "seq" = "id" - 1;--> statement-breakpoint
INSERT INTO "log_head" ("id", "size", "root", "frontier", "updated_at")
  VALUES (1, 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '[]'::jsonb, now())
  ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "log_head" SET "matches_sequenced" = (SELECT CASE WHEN "is_called" THEN "last_value" ELSE 0 END FROM "matches_id_seq") WHERE "id" = 1;
