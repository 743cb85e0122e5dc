-- The audit log, its checkpoints and brokers' decisions are append-only in the database itself, not
-- only by convention of the code: an UPDATE or DELETE is refused. The one update allowed is the
-- sequencer's single assignment of seq and leaf_hash to an entry that has neither yet.
-- Column-scoped triggers with a WHEN clause, so the sequencer's own UPDATE (SET seq, leaf_hash on
-- fresh rows) fires nothing and costs nothing. A column added to audit_entries later must be added
-- to the content trigger's list. (Superusers can bypass triggers; `kenbaar audit verify` catches that.)
CREATE OR REPLACE FUNCTION kenbaar_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER audit_entries_content_immutable
  BEFORE UPDATE OF id, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail
  ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER audit_entries_sequenced_once
  BEFORE UPDATE OF seq, leaf_hash ON audit_entries FOR EACH ROW
  WHEN (OLD.seq IS NOT NULL OR OLD.leaf_hash IS NOT NULL) EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER disclosure_decisions_append_only BEFORE UPDATE OR DELETE ON disclosure_decisions FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
