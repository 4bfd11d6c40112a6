-- The followup_counts triggers of 0004, revised. Backends that share a slot (pid % 16) used to
-- lock its rows in the order the changes came, so two of them changing statuses in opposite
-- directions (a → b and b → a) could deadlock; every upsert now goes in (company, status, type)
-- order, so they wait but never deadlock. Updates are counted per row, and only when a counted
-- column changes: most updates (notes, outcome, duration) pay nothing.

CREATE OR REPLACE FUNCTION followup_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT company_id, status, type, pg_backend_pid() % 16, count(*) FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION followup_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT company_id, status, type, pg_backend_pid() % 16, -count(*) FROM deleted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

-- A statement-level function cannot serve a row-level trigger: drop the old pair, make the new.
DROP TRIGGER followup_counts_update ON followups;
DROP FUNCTION followup_counts_on_update();

CREATE FUNCTION followup_counts_on_row_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT * FROM (VALUES (OLD.company_id, OLD.status, OLD.type, pg_backend_pid() % 16, -1),
                        (NEW.company_id, NEW.status, NEW.type, pg_backend_pid() % 16, 1)) AS change
  ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE TRIGGER followup_counts_update AFTER UPDATE OF company_id, status, type ON followups
  FOR EACH ROW WHEN ((OLD.company_id, OLD.status, OLD.type) IS DISTINCT FROM (NEW.company_id, NEW.status, NEW.type))
  EXECUTE FUNCTION followup_counts_on_row_update();
