-- Schema version 2: organisations, API keys, caseloads, the athlete registry (athlete ->
-- organisation, erasure tombstone), per-athlete data keys, the read audit, and who appended each
-- event. docs/security.md describes the model.

CREATE TABLE orgs (
    id             text PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    created_at     text NOT NULL,
    webhook_url    text,
    webhook_secret text,
    redis_stream   text
);

-- Only SHA-256 hashes of keys; ``caseload`` = 1 binds the key to the athletes in key_athletes.
CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    org_id     text NOT NULL REFERENCES orgs (id),
    name       text NOT NULL,
    scopes     text NOT NULL,
    key_hash   text NOT NULL,
    caseload   smallint NOT NULL DEFAULT 0,
    created_at text NOT NULL,
    revoked_at text
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, id);

CREATE TABLE key_athletes (
    key_id  text NOT NULL REFERENCES api_keys (id),
    athlete text NOT NULL,
    PRIMARY KEY (key_id, athlete)
);

-- Every athlete belongs to one organisation (NULL: appended outside the API, before organisations).
-- ``erased_at`` is the tombstone: the streams take no more events.
CREATE TABLE athletes (
    athlete    text PRIMARY KEY,
    org_id     text,
    created_at text NOT NULL,
    erased_at  text,
    erased_by  text
);
CREATE INDEX athletes_by_org ON athletes (org_id, athlete);

-- The per-athlete AES-256-GCM key; deleting the row is the erasure (crypto-shredding).
CREATE TABLE data_keys (
    athlete text PRIMARY KEY,
    key     bytea NOT NULL
);

-- Who read what: one row per authorised request on an athlete (never a body or a query string).
CREATE TABLE access_log (
    id      bigserial PRIMARY KEY,
    at      text NOT NULL,
    key_id  text NOT NULL,
    org_id  text NOT NULL,
    athlete text,
    action  text NOT NULL
);
CREATE INDEX access_log_by_athlete ON access_log (athlete, id);

-- Server-set: the key and organisation that appended each event (NULL: the engine or the CLI).
-- Adding nullable columns rewrites nothing, so the immutability triggers are not involved.
ALTER TABLE events ADD COLUMN key_id text;
ALTER TABLE events ADD COLUMN org_id text;
ALTER TABLE streams ADD COLUMN erased boolean NOT NULL DEFAULT false;
