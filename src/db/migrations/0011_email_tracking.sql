-- Email tracking (SPEC §6): the tracked URLs of a followup and every open and click.

-- A tracked URL's token is never stored: only its SHA-256, looked up by. A click link keeps its
-- destination here, so a token can only ever lead where it was made to (no open redirect).
CREATE TABLE tracking_links (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id      bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  followup_id     bigint NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('open', 'click')),
  token_hash      bytea NOT NULL UNIQUE,
  url             text,
  -- The URL as compare_url (src/tracking/urls.ts) normalises it: payments are attributed on it.
  normalized_url  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'click') = (url IS NOT NULL))
);
-- One pixel per followup.
CREATE UNIQUE INDEX tracking_links_pixel_key ON tracking_links (followup_id) WHERE kind = 'open';

CREATE TABLE tracking_events (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id         bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  followup_id        bigint NOT NULL REFERENCES followups (id) ON DELETE CASCADE,
  type               text NOT NULL CHECK (type IN ('delivered', 'opened', 'clicked', 'bounced')),
  link_id            bigint REFERENCES tracking_links (id) ON DELETE SET NULL,
  url                text,
  normalized_url     text,
  occurred_at        timestamptz NOT NULL DEFAULT now(),
  user_agent_class   text NOT NULL,
  -- A known prefetcher or link scanner: kept, but not counted.
  machine            boolean NOT NULL,
  -- Set on the events an email provider reports (POST /followups/{id}/events), once per company.
  provider_event_id  text,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_events_followup_idx ON tracking_events (followup_id, occurred_at, id);
CREATE UNIQUE INDEX tracking_events_provider_key ON tracking_events (company_id, provider_event_id) WHERE provider_event_id IS NOT NULL;
-- Attribution of a payment: the last human click on a URL among a debt's followups.
CREATE INDEX tracking_events_clicks_idx ON tracking_events (normalized_url, occurred_at) WHERE type = 'clicked' AND NOT machine;
