"""Arrow tables of a replay: schemas, row buffers, part files, and the ordered merge.

Workers write their athletes' rows to part files (one per partition), each sorted by athlete. The
merge then writes one Parquet and one CSV file per table in athlete order, taking each athlete's
rows from its part: one record batch per part is held at a time, so memory stays bounded whatever
the size of the log, and the output does not depend on how athletes were split across workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from engine.clock import to_micros
from events.codec import encode_json
from events.vocabulary import RecommendationIssued

TS = pa.timestamp("us", tz="UTC")
PART_ROWS = 8_192
"""Rows a worker buffers (as Python objects) before writing a row group of its part file."""
FLUSH_ROWS = 32_768
"""Rows the merge buffers (as Arrow) before writing a row group of an output file."""

RECOMMENDATION_SCHEMA = pa.schema([
    ("policy", pa.string()), ("athlete_id", pa.string()), ("recommendation_id", pa.string()),
    ("decision_time", TS), ("trigger_position", pa.int64()), ("kind", pa.string()),
    ("topic", pa.string()), ("rule_id", pa.string()), ("policy_name", pa.string()),
    ("policy_version", pa.string()), ("target", pa.string()), ("rationale", pa.string()),
    ("explanation", pa.string()),
])


def diff_schema(labels: Sequence[str]) -> pa.Schema:
    fields = [("athlete_id", pa.string()), ("decision_time", TS), ("topic", pa.string()),
              ("emitted_by", pa.string())]
    for label in labels:
        fields += [(f"{label}__kind", pa.string()), (f"{label}__rule_id", pa.string()),
                   (f"{label}__target", pa.string()), (f"{label}__recommendation_id", pa.string())]
    return pa.schema(fields)


class Columns:
    """Rows gathered column by column (cheap to append, one Arrow conversion per flush)."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.data: dict[str, list] = {name: [] for name in schema.names}

    def __len__(self) -> int:
        return len(self.data[self.schema.names[0]])

    def add(self, row: Sequence) -> None:
        for column, value in zip(self.data.values(), row):
            column.append(value)

    def table(self) -> pa.Table:
        table = pa.table(self.data, schema=self.schema)
        self.data = {name: [] for name in self.schema.names}
        return table


def recommendation_row(label: str, rec: RecommendationIssued) -> tuple:
    return (label, rec.athlete_id, str(rec.recommendation_id), to_micros(rec.decision_time),
            rec.trigger_position, rec.kind, rec.topic, rec.rule_id, rec.policy_name, rec.policy_version,
            encode_json(rec.target).decode(), encode_json(rec.rationale).decode(), rec.explanation)


class PartWriter:
    """A part file written in row groups; counts each athlete's rows for the merge."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.columns = Columns(schema)
        self.counts: list[tuple[str, int]] = []
        self._writer: pq.ParquetWriter | None = None

    def add_athlete(self, athlete_id: str, rows: Sequence[Sequence]) -> None:
        if not rows:
            return
        for row in rows:
            self.columns.add(row)
        self.counts.append((athlete_id, len(rows)))
        if len(self.columns) >= PART_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not len(self.columns):
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(self.columns.table())

    def close(self) -> list[tuple[str, int]]:
        self._flush()
        if self._writer is not None:
            self._writer.close()
        return self.counts


class _PartReader:
    def __init__(self, path: Path, batch_rows: int) -> None:
        self.batches = pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
        self.batch: pa.RecordBatch | None = None
        self.offset = 0

    def take(self, n: int) -> list[pa.RecordBatch]:
        out = []
        while n:
            if self.batch is None or self.offset >= self.batch.num_rows:
                self.batch, self.offset = next(self.batches), 0
            k = min(n, self.batch.num_rows - self.offset)
            out.append(self.batch.slice(self.offset, k))
            self.offset += k
            n -= k
        return out


class TableWriter:
    """One output table as Parquet and CSV, written in row groups."""

    def __init__(self, parquet: Path, csv: Path | None, schema: pa.Schema) -> None:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        self.schema = schema
        self.parquet = pq.ParquetWriter(parquet, schema, compression="zstd")
        self.csv = pcsv.CSVWriter(csv, schema) if csv is not None else None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.rows = 0

    def write(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            self.pending.append(batch)
            self.pending_rows += batch.num_rows
        if self.pending_rows >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = pa.Table.from_batches(self.pending, self.schema).combine_chunks()
        self.parquet.write_table(table)
        if self.csv is not None:
            self.csv.write_table(table)
        self.rows += table.num_rows
        self.pending, self.pending_rows = [], 0

    def close(self) -> int:
        self.flush()
        if self.rows == 0:  # an empty table still has its schema in both files
            empty = self.schema.empty_table()
            self.parquet.write_table(empty)
        self.parquet.close()
        if self.csv is not None:
            self.csv.close()
        return self.rows


def merge_parts(parts: Sequence[tuple[Path, list[tuple[str, int]]]], schema: pa.Schema,
                parquet: Path, csv: Path | None) -> int:
    """Write the rows of every part in athlete order (athletes are disjoint across parts)."""
    order = sorted((athlete, index, n) for index, (_, counts) in enumerate(parts) for athlete, n in counts)
    readers: dict[int, _PartReader] = {}
    writer = TableWriter(parquet, csv, schema)
    batch_rows = max(1024, min(PART_ROWS, FLUSH_ROWS // max(1, len(parts))))  # all readers: ~FLUSH_ROWS
    for _, index, n in order:
        if index not in readers:
            readers[index] = _PartReader(parts[index][0], batch_rows)
        writer.write(readers[index].take(n))
    return writer.close()


def write_table(rows: list[dict], schema: pa.Schema | None, parquet: Path, csv: Path | None) -> pa.Table:
    """A small table (metrics) held in memory: write it as Parquet and CSV, return it."""
    table = pa.Table.from_pylist(rows, schema=schema) if rows or schema is None else schema.empty_table()
    parquet.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, parquet, compression="zstd")
    if csv is not None:
        pcsv.write_csv(table, csv)
    return table
