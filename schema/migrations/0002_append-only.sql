-- The audit log, its checkpoints and brokers' decisions are append-only in the database itself, not
-- only by convention of the code: an UPDATE or DELETE is refused. The one update allowed is the
-- sequencer's single assignment of seq and leaf_hash to an entry that has neither yet.
-- (Someone with superuser rights can still bypass triggers; `kenbaar audit verify` catches that.)
CREATE OR REPLACE FUNCTION kenbaar_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION kenbaar_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.seq IS NULL AND OLD.leaf_hash IS NULL
       AND (to_jsonb(NEW) - 'seq' - 'leaf_hash') = (to_jsonb(OLD) - 'seq' - 'leaf_hash') THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
CREATE TRIGGER disclosure_decisions_append_only BEFORE UPDATE OR DELETE ON disclosure_decisions FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
