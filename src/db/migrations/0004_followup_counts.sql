-- Exact per-company counts of followups by status and type, so that a list's `total` costs a
-- few index rows instead of a scan of every matching followup (83,000 rows for one status of a
-- 1,000,000-followup company). Kept by triggers in the same transaction as the change (per
-- statement for inserts and deletes, so bulk loads stay cheap); each backend writes its own
-- slot (pid % 16), so concurrent writers seldom wait on one row. Backends that share a slot
-- lock its rows in one order, (company, status, type), so they wait but never deadlock.

CREATE TABLE followup_counts (
  company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  status      text NOT NULL,
  type        text NOT NULL,
  slot        smallint NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (company_id, status, type, slot)
);

CREATE FUNCTION followup_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT company_id, status, type, pg_backend_pid() % 16, count(*) FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE FUNCTION followup_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT company_id, status, type, pg_backend_pid() % 16, -count(*) FROM deleted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

-- Row level, and only when a counted column changes: most updates (notes, outcome, duration)
-- pay nothing.
CREATE FUNCTION followup_counts_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO followup_counts (company_id, status, type, slot, n)
  SELECT * FROM (VALUES (OLD.company_id, OLD.status, OLD.type, pg_backend_pid() % 16, -1),
                        (NEW.company_id, NEW.status, NEW.type, pg_backend_pid() % 16, 1)) AS change
  ORDER BY 1, 2, 3
  ON CONFLICT (company_id, status, type, slot) DO UPDATE SET n = followup_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE TRIGGER followup_counts_insert AFTER INSERT ON followups
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION followup_counts_on_insert();
CREATE TRIGGER followup_counts_delete AFTER DELETE ON followups
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION followup_counts_on_delete();
CREATE TRIGGER followup_counts_update AFTER UPDATE OF company_id, status, type ON followups
  FOR EACH ROW WHEN ((OLD.company_id, OLD.status, OLD.type) IS DISTINCT FROM (NEW.company_id, NEW.status, NEW.type))
  EXECUTE FUNCTION followup_counts_on_update();

INSERT INTO followup_counts (company_id, status, type, slot, n)
SELECT company_id, status, type, 0, count(*) FROM followups GROUP BY 1, 2, 3;
