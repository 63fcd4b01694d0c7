-- 0007_event_payloads: claim-checked event details (wims.EventPayload). An
-- event whose PutEvents request would go over EventBridge's 256 KB keeps its
-- detail here and carries only a reference on the bus; GET
-- /events/{id}/payload reads it back. Not a captured table: the event is the
-- change.
CREATE TABLE event_payloads (
    id         TEXT NOT NULL PRIMARY KEY,
    bus        TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    detail     BLOB NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
