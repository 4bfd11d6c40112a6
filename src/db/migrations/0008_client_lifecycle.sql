-- Client lifecycle: disable, enable, rotate the secret, change scopes, revoke a token.
--
-- Access tokens are sealed, not stored, so each API process checks them against a short-lived
-- in-memory copy of their client's state. token_epoch is sealed into every token: disabling a
-- client or rotating its secret raises it, and every token issued before stops working, even
-- after the client is enabled again. A revoked token (RFC 7009) is listed until it expires.
ALTER TABLE api_clients ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;
ALTER TABLE api_clients ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE revoked_tokens (
  client_id   bigint NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
  -- The token's random identifier (its jti), not the token.
  token_id    text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, token_id)
);
CREATE INDEX revoked_tokens_expiry_idx ON revoked_tokens (expires_at);

-- Every change of a client, from the CLI, the API or plain SQL, is announced at commit, so
-- that every process drops its copy of that client's state at once.
CREATE FUNCTION announce_api_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('relance_api_clients', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
  RETURN NULL;
END;
$$;
CREATE TRIGGER api_clients_announce_change
  AFTER UPDATE OR DELETE ON api_clients
  FOR EACH ROW EXECUTE FUNCTION announce_api_client_change();
