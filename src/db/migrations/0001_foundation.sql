-- Tenants, their API clients, debts and followups.

CREATE TABLE companies (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_clients (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id   bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  -- Public identifier sent as client_id; the secret is kept only as an HMAC-SHA256 digest.
  client_id    text NOT NULL UNIQUE,
  secret_hash  bytea NOT NULL,
  name         text,
  scopes       text[] NOT NULL,
  disabled_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_clients_company_idx ON api_clients (company_id);

CREATE TABLE debts (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id          bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  status              text NOT NULL DEFAULT 'status.default.pending',
  firstname           text NOT NULL,
  lastname            text NOT NULL,
  civility            text CHECK (civility IN ('Mr', 'Ms')),
  phone               text,
  email               text,
  amount              numeric(14, 2) NOT NULL CHECK (amount > 0),
  currency            char(3) NOT NULL,
  birthdate           date,
  object              text,
  internal_id         text,
  invoice_reference   text,
  debtor_reference    text,
  invoice_date        date,
  due_date            date,
  address             text,
  address_complement  text,
  zip_code            text,
  city                text,
  country             char(2),
  iban                text,
  payment_link        text,
  metadata            jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX debts_company_idx ON debts (company_id, id);

CREATE TABLE followups (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Copied from the debt so that every query can be scoped by company without a join.
  company_id             bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  debt_id                bigint NOT NULL REFERENCES debts (id) ON DELETE CASCADE,
  status                 text NOT NULL DEFAULT 'on_hold' CHECK (status IN (
                           'on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'read', 'deal_found',
                           'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled')),
  type                   text NOT NULL DEFAULT 'call' CHECK (type IN (
                           'call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail')),
  call_date              timestamptz,
  scheduled_at           timestamptz,
  summary                text,
  notes                  text,
  call_id                text,
  audio_url              text,
  pdf_url                text,
  duration_ms            bigint CHECK (duration_ms >= 0),
  disconnection_reason   text,
  direction              text CHECK (direction IN ('inbound', 'outbound')),
  phone_number_used      text,
  is_retry               boolean NOT NULL DEFAULT false,
  processed_at           timestamptz NOT NULL DEFAULT now(),
  triggered_payment      boolean NOT NULL DEFAULT false,
  email_opened           boolean NOT NULL DEFAULT false,
  email_open_count       integer NOT NULL DEFAULT 0,
  email_first_opened_at  timestamptz,
  email_clicked          boolean NOT NULL DEFAULT false,
  email_click_count      integer NOT NULL DEFAULT 0,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followups_debt_idx ON followups (debt_id);
