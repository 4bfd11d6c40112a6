-- Webhooks (SPEC §9): subscriptions, the outbox of events, and their deliveries.

CREATE TABLE webhook_subscriptions (
  id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id                  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  url                         text NOT NULL,
  events                      text[] NOT NULL,
  description                 text,
  -- The signing secret, sealed (AES-256-GCM with a key derived for webhooks): it must be
  -- read back to sign, so it is never stored in clear.
  secret                      bytea NOT NULL,
  -- After a rotation the replaced secret keeps signing, beside the new one, until it expires.
  previous_secret             bytea,
  previous_secret_expires_at  timestamptz,
  status                      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason             text,
  -- Set by the first failed attempt after a success, cleared by the next success: a
  -- subscription failing for too long is disabled.
  failing_since               timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_company_idx ON webhook_subscriptions (company_id, id);

-- The outbox: one row per event a change caused, written by the statement or transaction of
-- that change, only when an active subscription of the company wants its type. `snapshot` is
-- the changed row as stored (internal ids); deliveries render it in the API's format.
CREATE TABLE webhook_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id    bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  type          text NOT NULL,
  subject_type  text NOT NULL,
  subject_id    bigint NOT NULL,
  snapshot      jsonb NOT NULL,
  changes       jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- One row per event and subscription: what was sent, how often, and what came back.
CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  company_id       bigint NOT NULL,
  subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id         bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  -- The event's subject, copied: deliveries of one subject go out in order.
  subject_type     text NOT NULL,
  subject_id       bigint NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz DEFAULT now(),
  last_attempt_at  timestamptz,
  last_status_code integer,
  last_duration_ms integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (subscription_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id DESC);
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (subscription_id, subject_type, subject_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

CREATE TABLE webhook_delivery_attempts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id   bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempted_at  timestamptz NOT NULL DEFAULT now(),
  status_code   integer,
  duration_ms   integer,
  error         text
);
CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (delivery_id, id);

-- The events a followup change causes: created or updated (an update that changed nothing
-- causes none), and completed / failed when the status entered one of those states.
CREATE FUNCTION followup_event_types(created boolean, changes jsonb, status text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN NOT created AND (changes IS NULL OR changes = '{}'::jsonb) THEN '{}'::text[]
    ELSE ARRAY[CASE WHEN created THEN 'followup.created' ELSE 'followup.updated' END]
      || CASE WHEN (created OR changes ? 'status') AND status IN ('deal_found', 'deal_not_found', 'no_answer', 'bad_behavior', 'read')
              THEN ARRAY['followup.completed'] ELSE '{}'::text[] END
      || CASE WHEN (created OR changes ? 'status') AND status = 'failed' THEN ARRAY['followup.failed'] ELSE '{}'::text[] END
  END
$$;

-- Writes the events of one change into the outbox, with a delivery for each active
-- subscription of the company that wants it, and wakes the deliverer of each such
-- subscription (a graphile-worker job, in the same transaction). Called by the statement or in
-- the transaction of the change, so an event exists if and only if its change commits. With no
-- subscriber it costs one index probe. A subscription being deleted meanwhile is skipped (the
-- KEY SHARE lock waits for its deletion instead of failing the change on a foreign key).
CREATE FUNCTION relance_emit(
  p_company bigint, p_types text[], p_subject_type text, p_subject_id bigint, p_snapshot jsonb, p_changes jsonb
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  event_type text;
  new_event bigint;
  emitted integer := 0;
  woken bigint[] := '{}';
BEGIN
  IF cardinality(p_types) = 0 OR NOT EXISTS (
    SELECT 1 FROM webhook_subscriptions s WHERE s.company_id = p_company AND s.status = 'active' AND s.events && p_types
  ) THEN
    RETURN 0;
  END IF;
  FOREACH event_type IN ARRAY p_types LOOP
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM webhook_subscriptions s WHERE s.company_id = p_company AND s.status = 'active' AND event_type = ANY (s.events)
    );
    INSERT INTO webhook_events (company_id, type, subject_type, subject_id, snapshot, changes)
    VALUES (p_company, event_type, p_subject_type, p_subject_id, p_snapshot, p_changes)
    RETURNING id INTO new_event;
    WITH delivery AS (
      INSERT INTO webhook_deliveries (company_id, subscription_id, event_id, subject_type, subject_id)
      SELECT p_company, s.id, new_event, p_subject_type, p_subject_id
      FROM (
        SELECT id FROM webhook_subscriptions
        WHERE company_id = p_company AND status = 'active' AND event_type = ANY (events)
        ORDER BY id FOR KEY SHARE
      ) s
      RETURNING subscription_id
    )
    SELECT woken || coalesce(array_agg(subscription_id), '{}') INTO woken FROM delivery;
    emitted := emitted + 1;
  END LOOP;
  PERFORM graphile_worker.add_job(
    'deliver_webhooks', json_build_object('subscription_id', s.id), job_key => 'webhooks:' || s.id
  )
  FROM (SELECT DISTINCT unnest(woken) AS id) s;
  RETURN emitted;
END
$$;
