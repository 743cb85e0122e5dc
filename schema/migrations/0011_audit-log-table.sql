-- The log's order moves out of audit_entries into a narrow table of its own. Sequencing an entry
-- used to UPDATE its wide row (seq, leaf_hash): a new row version with an entry in each of its
-- indexes, 44–60 µs of PostgreSQL CPU per entry; an INSERT into audit_log and the dequeue cost 7–9
-- (bench/sequencer-shape.ts, BENCHMARKS.md). audit_entries is never updated again; the sequencer's
-- queue of committed, unsequenced entries is audit_pending, filled by a trigger on every INSERT with
-- each entry's id and the leaf hash its writer computed (audit_entries.leaf_hash now holds that hash,
-- given at append; the sequencer computes it only where it is missing).
CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"entry_id" bigint NOT NULL,
	"leaf_hash" text
);
--> statement-breakpoint
CREATE TABLE "audit_pending" (
	"entry_id" bigint PRIMARY KEY NOT NULL,
	"leaf_hash" text
);
--> statement-breakpoint
INSERT INTO audit_log (seq, entry_id, leaf_hash) SELECT seq, id, leaf_hash FROM audit_entries WHERE seq IS NOT NULL;
--> statement-breakpoint
INSERT INTO audit_pending (entry_id, leaf_hash) SELECT id, leaf_hash FROM audit_entries WHERE seq IS NULL;
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_entry_uq" ON "audit_log" USING btree ("entry_id");--> statement-breakpoint
-- The triggers that let the sequencer set seq and leaf_hash once (0002), and refused an INSERT with
-- either set (0004), go: seq goes, and leaf_hash is now given at append.
DROP TRIGGER audit_entries_sequenced_once ON audit_entries;
--> statement-breakpoint
DROP TRIGGER audit_entries_insert_unsequenced ON audit_entries;
--> statement-breakpoint
DROP FUNCTION kenbaar_unsequenced_insert();
--> statement-breakpoint
DROP TRIGGER audit_entries_no_delete ON audit_entries;
--> statement-breakpoint
DROP FUNCTION kenbaar_audit_prune_only();
--> statement-breakpoint
DROP INDEX "audit_entries_seq_uq";--> statement-breakpoint
DROP INDEX "audit_entries_unsequenced_idx";--> statement-breakpoint
ALTER TABLE "audit_entries" DROP COLUMN "seq";--> statement-breakpoint
-- An entry's content is never updated, whatever the column (a column added later is covered too).
DROP TRIGGER audit_entries_content_immutable ON audit_entries;
--> statement-breakpoint
CREATE TRIGGER audit_entries_immutable BEFORE UPDATE ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
-- Every entry written is queued for the sequencer, whoever writes it: one INSERT per statement.
CREATE FUNCTION kenbaar_audit_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_pending (entry_id, leaf_hash) SELECT id, leaf_hash FROM written;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_queued AFTER INSERT ON audit_entries REFERENCING NEW TABLE AS written
  FOR EACH STATEMENT EXECUTE FUNCTION kenbaar_audit_queue();
--> statement-breakpoint
-- A queued entry leaves the queue only once it is in the log: a DELETE that would drop an entry
-- unsequenced (so that it is never logged) is refused.
CREATE FUNCTION kenbaar_audit_dequeue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM dequeued d WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entry_id = d.entry_id)) THEN
    RAISE EXCEPTION 'audit_pending: an entry leaves the queue only into audit_log; DELETE refused' USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_pending_into_log AFTER DELETE ON audit_pending REFERENCING OLD TABLE AS dequeued
  FOR EACH STATEMENT EXECUTE FUNCTION kenbaar_audit_dequeue();
--> statement-breakpoint
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
-- Positions are given by the sequencer only, which raises log_head.size first and then inserts the
-- positions below it: a row at or beyond the head (which would block the sequencer for good, its
-- next seq taken), or below the minimum index (a pruned place filled again), is refused.
CREATE FUNCTION kenbaar_audit_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM logged n, log_head h WHERE h.id = 1 AND (n.seq >= h.size OR n.seq < h.min_index))
     OR (EXISTS (SELECT 1 FROM logged) AND NOT EXISTS (SELECT 1 FROM log_head WHERE id = 1)) THEN
    RAISE EXCEPTION 'audit_log: positions are the sequencer''s; INSERT refused' USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_sequencer_only AFTER INSERT ON audit_log REFERENCING NEW TABLE AS logged
  FOR EACH STATEMENT EXECUTE FUNCTION kenbaar_audit_log_insert();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION kenbaar_immutable();
--> statement-breakpoint
-- Retention of the log itself (src/log/retention.ts): the one DELETE allowed, of an entry and of its
-- place, is below the log's minimum index, which only the pruning job raises (upwards, in whole
-- tiles, after logging it). The pruning deletes the entries first, then their places.
CREATE FUNCTION kenbaar_audit_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  place bigint;
BEGIN
  -- The deleted row's place in the log (a record's fields are looked up by name through jsonb, as
  -- the two tables share no column but this trigger).
  IF TG_TABLE_NAME = 'audit_log' THEN
    place := (to_jsonb(OLD) ->> 'seq')::bigint;
  ELSE
    SELECT l.seq INTO place FROM audit_log l WHERE l.entry_id = (to_jsonb(OLD) ->> 'id')::bigint;
  END IF;
  IF place < (SELECT min_index FROM log_head WHERE id = 1) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: DELETE refused', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION kenbaar_audit_prune_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION kenbaar_audit_prune_only();
--> statement-breakpoint
ANALYZE "audit_log";--> statement-breakpoint
ANALYZE "audit_pending";--> statement-breakpoint
ANALYZE "audit_entries";
