-- Debt lists: newest first (ties by id), optionally filtered on status. Both keys start with
-- the company, as every query does, and end with id so that ties keep one order.
CREATE INDEX debts_company_created_idx ON debts (company_id, created_at DESC, id DESC);
CREATE INDEX debts_company_status_created_idx ON debts (company_id, status, created_at DESC, id DESC);

-- Debt statuses are a closed set (SPEC §8); the API refuses others, and so does the table now.
ALTER TABLE debts ADD CONSTRAINT debts_status_check CHECK (status IN (
  'status.default.pending', 'status.default.paid', 'status.default.in_progress',
  'status.default.on_hold', 'status.default.failed', 'status.default.archived'));
