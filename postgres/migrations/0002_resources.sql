-- 0002_resources: the event platform's resources (buses, rules, targets,
-- connections, API destinations), one table for every kind; the SQLite
-- engine's 0003, translated.
--
-- doc is TEXT, not JSONB: it is the resource's JSON document exactly as
-- written, and the change image, so it must come back byte for byte (JSONB
-- would reorder keys and drop whitespace). secret is the encrypted secret,
-- kept apart from the document so it can never leak into an image, NULL for
-- none. COLLATE "C" makes the primary key's order byte order, as in SQLite,
-- so listings sort alike and the prefix range scans (name >= prefix AND
-- name < end) use the index whatever the database's default collation is.
CREATE TABLE resources (
    kind       TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    doc        TEXT NOT NULL,
    secret     BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, name)
);

-- resource_generation is bumped once by every transaction that writes
-- resources, so instances can tell cheaply that their copy is stale. Its row
-- is locked first by every such transaction (see the postgres package's
-- resources.go), which serialises resource writers.
CREATE TABLE resource_generation (
    id         INT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL CHECK (generation >= 0)
);
INSERT INTO resource_generation (id, generation) VALUES (1, 0);
