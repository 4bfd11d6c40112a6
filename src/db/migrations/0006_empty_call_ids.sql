-- An empty call_id names no call and is stored as null from now on; followups stored earlier
-- with '' get null too (so they no longer de-duplicate each other), each change in their history.
WITH cleared AS (
  UPDATE followups SET call_id = NULL, updated_at = now()
  WHERE call_id = ''
  RETURNING company_id, id
)
INSERT INTO followup_changes (company_id, followup_id, field, from_value, to_value, source)
SELECT company_id, id, 'call_id', '""'::jsonb, 'null'::jsonb, 'system' FROM cleared;
