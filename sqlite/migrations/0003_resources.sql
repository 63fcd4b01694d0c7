-- 0003_resources: the event platform's resources (buses, rules, targets,
-- connections, API destinations), one table for every kind.
--
-- doc is the resource's JSON document exactly as written (it is also the
-- change image); secret is the encrypted secret, kept apart from the document
-- so it can never leak into an image, NULL for none. The primary key is the
-- listing order: BINARY collation compares names byte by byte, as the
-- PostgreSQL engine's COLLATE "C" does, and serves the prefix range scans
-- (name >= prefix AND name < end).
CREATE TABLE resources (
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    secret     BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);

-- resource_generation is bumped once by every transaction that writes
-- resources, so instances can tell cheaply that their copy is stale.
CREATE TABLE resource_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL CHECK (generation >= 0)
);
INSERT INTO resource_generation (id, generation) VALUES (1, 0);
