-- What each run of a background maintenance task did, and when: for operators, and the record
-- that shows a task never ran twice at once. Kept 30 days (the purge task trims it).
CREATE TABLE maintenance_runs (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task           text NOT NULL,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  rows_affected  bigint NOT NULL
);
CREATE INDEX maintenance_runs_task_idx ON maintenance_runs (task, started_at);
