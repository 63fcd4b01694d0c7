-- 0012_event_payloads_created: claim-check payloads expire
-- (platform.PayloadJanitor deletes the oldest, created before a horizon), so
-- the delete finds them by age without scanning large rows. The SQLite
-- engine's 0013, translated.
CREATE INDEX event_payloads_created ON event_payloads (created_at);
