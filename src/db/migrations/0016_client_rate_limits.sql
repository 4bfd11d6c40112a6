-- Per-client rate-limit budgets (SPEC §10): requests per window, reads (GET, HEAD) and writes
-- apart. NULL: the processes' defaults (RATE_LIMIT_READS, RATE_LIMIT_WRITES). A change is
-- announced to every process by the api_clients trigger of migration 0008, like any other.
ALTER TABLE api_clients
  ADD COLUMN read_limit integer CHECK (read_limit BETWEEN 1 AND 1000000000),
  ADD COLUMN write_limit integer CHECK (write_limit BETWEEN 1 AND 1000000000);
