-- The fingerprint of the master key this database was set up with (a value derived from the key,
-- never the key itself): a start with another key is refused instead of making every client
-- secret, token and ID stop working. One row at most.
CREATE TABLE key_fingerprint (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  fingerprint text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now()
);
