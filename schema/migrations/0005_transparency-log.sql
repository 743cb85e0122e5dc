CREATE TABLE "checkpoint_cosignatures" (
	"checkpoint_id" bigint NOT NULL,
	"witness" text NOT NULL,
	"line" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_subtrees" (
	"level" integer NOT NULL,
	"idx" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "witness_state" (
	"witness" text PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_entries" ADD COLUMN "uid" text;--> statement-breakpoint
ALTER TABLE "checkpoints" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "log_head" ADD COLUMN "min_index" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "checkpoint_cosignatures_uq" ON "checkpoint_cosignatures" USING btree ("checkpoint_id","witness");--> statement-breakpoint
CREATE UNIQUE INDEX "log_subtrees_pk" ON "log_subtrees" USING btree ("level","idx");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_entries_uid_uq" ON "audit_entries" USING btree ("uid");--> statement-breakpoint
-- The content trigger's column list gains uid (see 0002).
DROP TRIGGER audit_entries_content_immutable ON audit_entries;
--> statement-breakpoint
CREATE TRIGGER audit_entries_content_immutable
  BEFORE UPDATE OF id, uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail
  ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
-- Retention of the log itself: the one DELETE allowed is of an entry below the log's minimum index,
-- which only the pruning job raises (and only upwards, in whole tiles, after logging it). The hashes
-- stay (log_subtrees), so checkpoints and proofs for later entries remain valid.
CREATE OR REPLACE FUNCTION kenbaar_audit_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.seq IS NOT NULL AND OLD.seq < (SELECT min_index FROM log_head WHERE id = 1) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_entries is append-only: DELETE refused' USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
DROP TRIGGER audit_entries_no_delete ON audit_entries;
--> statement-breakpoint
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_audit_prune_only();
--> statement-breakpoint
CREATE TRIGGER log_head_min_index_grows
  BEFORE UPDATE OF min_index ON log_head FOR EACH ROW
  WHEN (NEW.min_index < OLD.min_index) EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER log_subtrees_append_only BEFORE UPDATE OR DELETE ON log_subtrees FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER checkpoint_cosignatures_append_only BEFORE UPDATE OR DELETE ON checkpoint_cosignatures FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
