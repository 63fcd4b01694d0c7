-- 0006_event_payloads: claim-checked event details (wims.EventPayload). An
-- event whose PutEvents request would go over EventBridge's 256 KB keeps its
-- detail here and carries only a reference on the bus; GET
-- /events/{id}/payload reads it back. Not a captured table: the event is the
-- change. The SQLite engine's 0007, translated.
CREATE TABLE event_payloads (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    bus        TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    detail     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
