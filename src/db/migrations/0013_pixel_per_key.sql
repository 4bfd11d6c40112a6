-- A followup's pixel token is derived from the tracking key (src/tracking/tokens.ts): after
-- `relance key reset` the pixel asked for again has a new token, which one pixel per followup
-- could not record (its opens were silently lost), while the pixels already sent in messages
-- must go on counting. A followup has one pixel per key; the token's hash stays unique.
DROP INDEX tracking_links_pixel_key;
