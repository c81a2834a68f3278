-- Strideline event store on PostgreSQL, schema version 1.
-- Unqualified names: everything lands in the first schema of the connection's search_path.

-- The global position counter: exactly one row, bumped inside every append transaction.
-- Its row lock is held until that transaction commits, so appends take positions one at a time
-- and commit in position order: a reader following positions never passes an event that commits
-- later with a smaller position (docs/store.md, "The gap problem"). A rolled-back append rolls the
-- counter back too, so positions have no holes.
CREATE TABLE log_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL CHECK (position >= 0)
);
INSERT INTO log_head (singleton, position) VALUES (true, 0);

CREATE TABLE events (
    position       bigint      PRIMARY KEY CHECK (position > 0),
    event_id       uuid        NOT NULL UNIQUE,
    stream         text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    type           text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    correlation_id uuid,
    causation_id   uuid,
    source         text        NOT NULL DEFAULT '',
    payload        bytea       NOT NULL,              -- MessagePack, events.codec.encode_payload
    UNIQUE (stream, version)
);

CREATE TABLE streams (
    stream           text        PRIMARY KEY,
    version          bigint      NOT NULL CHECK (version > 0),
    last_position    bigint      NOT NULL,
    last_recorded_at timestamptz NOT NULL
);

CREATE TABLE projections (
    athlete    text   NOT NULL,
    name       text   NOT NULL,
    state      bytea  NOT NULL,
    checkpoint bigint NOT NULL,                       -- the last stream version folded into state
    PRIMARY KEY (athlete, name)
);
CREATE INDEX projections_by_name ON projections (name, athlete) INCLUDE (checkpoint);

-- Events are never changed: corrections are new events. The store has no UPDATE or DELETE on
-- events; these triggers make the database refuse them from any other client too.
CREATE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable (% refused): append a correction or a retraction instead',
        TG_OP USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_are_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER events_are_never_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
