-- Schema version 3: projection checkpoints in a narrow table of their own.
-- ``checkpoints.checkpoint`` is how far a projection's durable effects go (its recommendations are
-- stored up to there); ``projections.checkpoint`` is the version its saved state (a snapshot)
-- reflects, which may be older: workers keep state in memory and snapshot every so often, and a
-- worker without it re-folds from the snapshot (docs/workers.md). Reading checkpoints (the
-- sweeper, the metrics, the bench) never touches a state blob. ``revision`` counts the commits, so a
-- worker's state in memory is known to be current only while the revision is the one it committed.
CREATE TABLE checkpoints (
    name       text   NOT NULL,
    athlete    text   NOT NULL,
    checkpoint bigint NOT NULL,
    revision   bigint NOT NULL DEFAULT 1,                -- bumped by every commit (ticks move no version)
    PRIMARY KEY (name, athlete)
);
INSERT INTO checkpoints (name, athlete, checkpoint) SELECT name, athlete, checkpoint FROM projections;
