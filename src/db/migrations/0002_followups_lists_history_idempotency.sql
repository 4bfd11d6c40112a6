-- Lists, history and idempotent creates for followups.

-- The activity date lists sort and filter on: when it happened, else when it is planned, else
-- when it was recorded. Stored so that it can lead an index.
ALTER TABLE followups
  ADD COLUMN activity_at timestamptz GENERATED ALWAYS AS (COALESCE(call_date, scheduled_at, created_at)) STORED;

-- Every list query starts with the company; the rest of each key matches one sort or filter, and
-- ends with id so that ties are ordered and keyset (cursor) pages are exact.
CREATE INDEX followups_company_activity_idx ON followups (company_id, activity_at DESC, id DESC);
CREATE INDEX followups_company_status_activity_idx ON followups (company_id, status, activity_at DESC, id DESC);
CREATE INDEX followups_company_type_activity_idx ON followups (company_id, type, activity_at DESC, id DESC);
CREATE INDEX followups_company_debt_activity_idx ON followups (company_id, debt_id, activity_at DESC, id DESC);
CREATE INDEX followups_company_updated_idx ON followups (company_id, updated_at, id);

-- Call providers retry their callbacks: one followup per call_id and debt.
CREATE UNIQUE INDEX followups_debt_call_id_key ON followups (debt_id, call_id) WHERE call_id IS NOT NULL;

CREATE TABLE followup_changes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  followup_id  bigint NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  field        text NOT NULL,
  from_value   jsonb,
  to_value     jsonb,
  -- api:<client_id>, tracking, payment or system
  source       text NOT NULL
);
CREATE INDEX followup_changes_followup_idx ON followup_changes (followup_id, id);

CREATE TABLE idempotency_keys (
  company_id    bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  key           text NOT NULL,
  -- SHA-256 of the method, path and canonical JSON body: the same key with another body is refused.
  request_hash  bytea NOT NULL,
  -- The key is claimed first and the response stored in the same transaction, so no other
  -- transaction ever sees these empty.
  status_code   integer,
  -- The response body exactly as sent, replayed byte for byte.
  response      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (company_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
