-- The files of a followup in blob storage: the object key (random, never derived from an id),
-- its content type and size. A recording given as a URL is downloaded by a background job;
-- recording_state says how far that got (pending, stored, failed with recording_error).
ALTER TABLE followups
  ADD COLUMN audio_key text,
  ADD COLUMN audio_content_type text,
  ADD COLUMN audio_size bigint,
  ADD COLUMN pdf_key text,
  ADD COLUMN pdf_content_type text,
  ADD COLUMN pdf_size bigint,
  ADD COLUMN recording_state text CHECK (recording_state IN ('pending', 'stored', 'failed')),
  ADD COLUMN recording_error text;
