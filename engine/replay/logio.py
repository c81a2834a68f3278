"""Export and import of the whole log: JSONL (one Envelope JSON per line) and Parquet.

Both stream in global position order with bounded memory. Import needs an empty SQLite store
(``SQLiteEventStore.import_envelopes``) and keeps event ids, streams, versions, positions,
``occurred_at`` and ``recorded_at`` exactly, so a log exported, imported and exported again is
byte-identical (JSONL) and row-identical (Parquet).

Parquet columns: position, event_id, stream, version, type, occurred_at and recorded_at (UTC
timestamps, microseconds), correlation_id, causation_id, source, and ``data``: the event payload as
JSON (the same JSON as the ``data`` field of a JSONL line).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from engine.clock import from_micros, to_micros
from engine.replay.errors import ReplayError
from engine.store.base import EventStore
from events import Envelope
from events.codec import decode_envelope_json, encode_json
from events.vocabulary import AnyEvent

Progress = Callable[[int], None]
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
ROW_GROUP = 65_536
_data_decoder = msgspec.json.Decoder(AnyEvent)


def log_format(path: str | Path, fmt: str | None = None) -> str:
    """``jsonl`` or ``parquet``, from ``fmt`` or the file suffix."""
    if fmt:
        if fmt not in ("jsonl", "parquet"):
            raise ReplayError(f"unknown log format {fmt!r}: use jsonl or parquet")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ReplayError(f"{path}: cannot tell the log format from the suffix (.jsonl or .parquet)")


def is_log_file(source: str | Path) -> bool:
    path = Path(str(source))
    return path.suffix.lower() in JSONL_SUFFIXES + PARQUET_SUFFIXES and path.is_file()


# -- export ----------------------------------------------------------------------------------------

def export_log(store: EventStore, path: str | Path, fmt: str | None = None, *,
               progress: Progress | None = None, batch_size: int = 5000) -> int:
    """Write every event of ``store`` to ``path``; returns the number of events."""
    fmt = log_format(path, fmt)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".partial")
    count = (_export_jsonl if fmt == "jsonl" else _export_parquet)(store, tmp, progress, batch_size)
    tmp.replace(path)
    return count


def _batches(store: EventStore, batch_size: int) -> Iterator[list[Envelope]]:
    batch: list[Envelope] = []
    for envelope in store.iter_all(batch_size=batch_size):
        batch.append(envelope)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _export_jsonl(store: EventStore, path: Path, progress: Progress | None, batch_size: int) -> int:
    count = 0
    with open(path, "wb") as out:
        for batch in _batches(store, batch_size):
            out.write(b"".join(encode_json(e) + b"\n" for e in batch))
            count += len(batch)
            if progress:
                progress(len(batch))
    return count


def parquet_schema():
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema([("position", pa.int64()), ("event_id", pa.string()), ("stream", pa.string()),
                      ("version", pa.int64()), ("type", pa.string()), ("occurred_at", ts),
                      ("recorded_at", ts), ("correlation_id", pa.string()), ("causation_id", pa.string()),
                      ("source", pa.string()), ("data", pa.string())])


def _export_parquet(store: EventStore, path: Path, progress: Progress | None, batch_size: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    columns: dict[str, list] = {name: [] for name in schema.names}
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(store, batch_size):
            for e in batch:
                columns["position"].append(e.position)
                columns["event_id"].append(str(e.event_id))
                columns["stream"].append(e.stream)
                columns["version"].append(e.version)
                columns["type"].append(e.type)
                columns["occurred_at"].append(to_micros(e.occurred_at))
                columns["recorded_at"].append(to_micros(e.recorded_at))
                columns["correlation_id"].append(None if e.correlation_id is None else str(e.correlation_id))
                columns["causation_id"].append(None if e.causation_id is None else str(e.causation_id))
                columns["source"].append(e.source)
                columns["data"].append(encode_json(e.data).decode())
            count += len(batch)
            if len(columns["position"]) >= ROW_GROUP:
                writer.write_table(pa.table(columns, schema=schema))
                columns = {name: [] for name in schema.names}
            if progress:
                progress(len(batch))
        if columns["position"] or count == 0:
            writer.write_table(pa.table(columns, schema=schema))
    return count


# -- read back -------------------------------------------------------------------------------------

def read_log(path: str | Path, fmt: str | None = None) -> Iterator[Envelope]:
    """The envelopes of an exported log, in file order, streamed."""
    fmt = log_format(path, fmt)
    return _read_jsonl(Path(path)) if fmt == "jsonl" else _read_parquet(Path(path))


def _read_jsonl(path: Path) -> Iterator[Envelope]:
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield decode_envelope_json(line)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ReplayError(f"{path}:{number}: not an event envelope: {exc}") from None


def _read_parquet(path: Path) -> Iterator[Envelope]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    missing = set(parquet_schema().names) - set(file.schema_arrow.names)
    if missing:
        raise ReplayError(f"{path}: not an exported log (missing columns {', '.join(sorted(missing))})")
    row = 0
    for batch in file.iter_batches(batch_size=ROW_GROUP):
        cols = {name: batch.column(name) for name in parquet_schema().names}
        for name in ("occurred_at", "recorded_at"):
            cols[name] = cols[name].cast(pa.int64())
        py = {name: col.to_pylist() for name, col in cols.items()}
        for i in range(batch.num_rows):
            row += 1
            try:
                data = _data_decoder.decode(py["data"][i])
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ReplayError(f"{path}: row {row} (position {py['position'][i]}): bad data: {exc}") from None
            corr, caus = py["correlation_id"][i], py["causation_id"][i]
            yield Envelope(event_id=uuid.UUID(py["event_id"][i]), stream=py["stream"][i],
                           version=py["version"][i], position=py["position"][i],
                           occurred_at=from_micros(py["occurred_at"][i]),
                           recorded_at=from_micros(py["recorded_at"][i]), data=data,
                           correlation_id=None if corr is None else uuid.UUID(corr),
                           causation_id=None if caus is None else uuid.UUID(caus),
                           source=py["source"][i] or "")


# -- import ----------------------------------------------------------------------------------------

def import_log(store: EventStore, path: str | Path, fmt: str | None = None, *,
               progress: Progress | None = None) -> int:
    """Import an exported log into an empty store (ids, versions, positions and times kept)."""
    importer = getattr(store, "import_envelopes", None)
    if importer is None:
        raise ReplayError(f"{type(store).__name__} cannot import a log as-is: import into a SQLite store")

    def counted() -> Iterator[Envelope]:
        pending = 0
        for envelope in read_log(path, fmt):
            yield envelope
            pending += 1
            if progress and pending >= 5000:
                progress(pending)
                pending = 0
        if progress and pending:
            progress(pending)

    return importer(counted())
