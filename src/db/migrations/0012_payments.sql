-- Payments received on debts (SPEC §7).
CREATE TABLE payments (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  debt_id      bigint NOT NULL REFERENCES debts (id) ON DELETE CASCADE,
  -- The followup the payment is attributed to, if any.
  followup_id  bigint REFERENCES followups (id) ON DELETE SET NULL,
  -- The debts' own type: exact decimals, summed and compared in SQL only.
  amount       numeric(14, 2) NOT NULL CHECK (amount > 0),
  currency     char(3) NOT NULL,
  paid_at      timestamptz NOT NULL,
  reference    text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- A payment reported twice (a retried webhook, a re-imported statement) is one payment.
CREATE UNIQUE INDEX payments_debt_reference_key ON payments (debt_id, reference) WHERE reference IS NOT NULL;
CREATE INDEX payments_company_paid_idx ON payments (company_id, paid_at DESC, id DESC);
CREATE INDEX payments_debt_paid_idx ON payments (debt_id, paid_at DESC, id DESC);
