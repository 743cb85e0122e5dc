-- The queue's DELETE check (0011) joined the dequeued entries to audit_log in static PL/pgSQL, so
-- each connection planned it once, at its first dequeue, and kept that plan: a first round of one
-- entry against a young log gave a nested loop over a sequential scan of audit_log, and every later
-- round cost (entries dequeued) x (size of the log). With autovacuum off nothing replaced it: 20,000
-- entries against a log of 40,000 took 56 s, beyond the 20 s statement timeout, and the sequencer
-- stopped (BENCHMARKS.md, 2026-12-04 21:20). Dynamic SQL is planned at each execution, with the
-- transition table's real size and the log's real size: an index probe per dequeued entry.
CREATE OR REPLACE FUNCTION kenbaar_audit_dequeue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  stray boolean;
BEGIN
  EXECUTE 'SELECT EXISTS (SELECT 1 FROM dequeued d WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entry_id = d.entry_id))' INTO stray;
  IF stray THEN
    RAISE EXCEPTION 'audit_pending: an entry leaves the queue only into audit_log; DELETE refused' USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END
$$;
