-- Four eyes across organisations: whom a disclosure request's approvals must come from, as the
-- covenant said when it was made. Existing requests get the strict reading.
ALTER TABLE "disclosure_requests" ADD COLUMN "approvers" text DEFAULT 'distinct-partners' NOT NULL;
--> statement-breakpoint
-- Append-only includes INSERT: only the sequencer gives an entry its seq and leaf_hash (0002 lets it
-- set them once). A row inserted with either already set would forge a place in the log, or block
-- the sequencer for good (a seq it is about to assign collides with the unique index; a leaf_hash
-- on an unsequenced row trips audit_entries_sequenced_once). Refused, for every role the trigger
-- binds (a superuser can still disable triggers; `kenbaar audit verify` catches what follows).
CREATE OR REPLACE FUNCTION kenbaar_unsequenced_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%: seq and leaf_hash are the sequencer''s; INSERT with them refused', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_insert_unsequenced
  BEFORE INSERT ON audit_entries FOR EACH ROW
  WHEN (NEW.seq IS NOT NULL OR NEW.leaf_hash IS NOT NULL) EXECUTE FUNCTION kenbaar_unsequenced_insert();
