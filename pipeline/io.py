"""Reading complaint files and writing results, safely.

Readers accept CSV (any common delimiter), JSONL, Parquet and plain text (one
complaint per line), in UTF-8 or the cp1252 / latin-1 of French spreadsheet
exports, from a path or ``-`` (stdin). Problems with the file as a whole raise
``InputError`` with a one-line message; problems with single rows are reported
per row by the callers, never by dropping the row.

Writers are atomic: a temporary file in the destination folder, fsync, then
``os.replace``. A reader never sees half a file, whatever kills the writer.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from .errors import InputError, StorageError
from .schema import TEXT_COLUMN_CANDIDATES

FORMATS = ("csv", "jsonl", "parquet", "txt")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
             ".parquet": "parquet", ".pq": "parquet", ".txt": "txt", ".text": "txt"}
MAX_FILE_BYTES = 2 * 1024**3


def detect_format(path: str | Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise InputError(f"unknown format {explicit!r} (expected one of: {', '.join(FORMATS)})")
        return explicit
    if str(path) == "-":
        return "txt"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"{path}: cannot tell the format from the extension {suffix!r}; use --format")
    return _SUFFIXES[suffix]


# Tried in this order; latin-1 decodes any byte, so it is the last resort.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def check_not_binary(head: bytes, source: str) -> None:
    """A NUL byte in the first 4 KB (outside a UTF-16 BOM file) means a binary file."""
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{source}: looks like a binary file, not text (CSV, JSONL or .txt expected)")


def decode(data: bytes, source: str = "input") -> str:
    """UTF-8 (with or without BOM) first, then cp1252, then latin-1 (never fails)."""
    check_not_binary(data, source)
    for encoding in ENCODINGS[:-1]:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode(ENCODINGS[-1])


@contextlib.contextmanager
def unreadable_as_input_error(path: str | Path) -> Iterator[None]:
    """The usual ways a file cannot be opened, as one-line InputErrors."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_bytes(path: str | Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    with unreadable_as_input_error(p):
        if p.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{p}: file larger than {MAX_FILE_BYTES // 1024**3} GB; split it first")
        return p.read_bytes()


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Any supported file as a DataFrame of strings (Parquet keeps its types)."""
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path)
    text = decode(_read_bytes(path), str(path))
    if fmt == "txt":
        lines = text.splitlines()
        return pd.DataFrame({"text": lines}, dtype=object)
    if fmt == "jsonl":
        return jsonl_frame(enumerate(text.splitlines(), 1))
    return _read_csv(text, str(path))


def _read_parquet(path) -> pd.DataFrame:
    if str(path) == "-":
        return parquet_from_bytes(_read_bytes(path), "-")
    if not Path(path).exists():
        raise InputError(f"{path}: no such file")
    return _parquet_frame(str(path), str(path))


def parquet_from_bytes(data: bytes, source: str) -> pd.DataFrame:
    """A Parquet file held in memory (stdin) as a DataFrame."""
    return _parquet_frame(io.BytesIO(data), source)


def _parquet_frame(where, source: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(where).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{source}: not a readable Parquet file ({_first_line(exc)})") from None


def _first_line(exc: Exception, limit: int = 120) -> str:
    """A library error quoted in one short line (its first line, cut at ``limit``)."""
    lines = str(exc).splitlines()
    return lines[0][:limit] if lines else type(exc).__name__


def open_parquet(path: str | Path):
    """A ``pyarrow.parquet.ParquetFile`` (row count, schema, batches), or a one-line
    InputError when the file is missing or not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not Path(path).exists():
        raise InputError(f"{path}: no such file")
    try:
        return pq.ParquetFile(str(path))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None


def parquet_batches(path: str | Path, batch_size: int) -> tuple[int, Iterator[pd.DataFrame]]:
    """(row count, batches): a Parquet file read a batch at a time, for files larger
    than memory. Errors opening the file are raised here, before any batch."""
    import pyarrow as pa

    parquet = open_parquet(path)

    def batches() -> Iterator[pd.DataFrame]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_size):
                yield batch.to_pandas()
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{path}: unreadable Parquet data ({_first_line(exc)})") from None

    return parquet.metadata.num_rows, batches()


def jsonl_frame(numbered_lines) -> pd.DataFrame:
    """One object per line, from ``(line number, line)`` pairs; blank lines are skipped.
    A broken line becomes a row flagged by ``_parse_error``. Values become text before
    the table is made: pandas would otherwise guess each column's type from the rows at
    hand (ids 1, 2 read as 1.0, 2.0 when one row lacks an id), and a file read in parts
    must give the same cells as the whole file."""
    rows = []
    for number, line in numbered_lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append({"_parse_error": f"line {number}: invalid JSON ({exc.msg})"})
            continue
        if isinstance(value, str):
            value = {"text": value}
        if not isinstance(value, dict):
            rows.append({"_parse_error": f"line {number}: expected a JSON object"})
            continue
        # Values may be nested or numeric; the pipeline wants plain strings.
        rows.append({key: _as_text(v) for key, v in value.items()})
    if not rows:
        return pd.DataFrame({"text": pd.Series([], dtype=object)})
    frame = pd.DataFrame(rows, dtype=object)
    return frame.where(frame.notna(), None)


def _as_text(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# Every cell a string, as typed: "NA" or "" stay text (the pipeline flags empty texts
# itself); a row with too many fields is an error, never silently cut.
CSV_OPTIONS = dict(dtype=str, keep_default_na=False, na_values=[], on_bad_lines="error", engine="python")
CSV_SNIFF_CHARS = 20000


CSV_DELIMITERS = (";", ",", "\t", "|")
# The delimiter of a one-column file: a control character no text contains.
ONE_COLUMN = "\x1f"


def sniff_delimiter(sample: str, cut: bool = False) -> str:
    """The delimiter of a CSV from its first characters (``cut``: the sample stops
    inside the file, so its last row may be partial).

    The delimiter under which the header has the most columns and no row of the sample
    more (rows may have fewer: pandas fills them). csv.Sniffer alone counts characters
    across the whole sample: on a French export (";") of complaints with quoted words and
    commas it chose ",", and the file was refused as malformed. Ties go to csv.Sniffer.
    A header without any delimiter is a one-column file: its texts may hold any."""
    rows_by = {}
    for delimiter in CSV_DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if cut:
            rows = rows[:-1]
        rows = [r for r in rows if any(field.strip() for field in r)]   # blank lines
        if rows and len(rows[0]) > 1 and all(len(r) <= len(rows[0]) for r in rows[1:]):
            rows_by[delimiter] = len(rows[0])
    if rows_by:
        widest = max(rows_by.values())
        tied = [d for d, width in rows_by.items() if width == widest]
        if len(tied) == 1:
            return tied[0]
        try:
            return csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
        except csv.Error:
            return tied[0]
    header = next((line for line in sample.splitlines() if line.strip()), "")
    if header and not any(d in header for d in CSV_DELIMITERS):
        return ONE_COLUMN
    # Every delimiter gives some row more fields than the header: pandas will report
    # the first such row under the delimiter csv.Sniffer prefers.
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(CSV_DELIMITERS)).delimiter
    except csv.Error:
        return ","


def malformed_csv(source: str, exc: Exception) -> InputError:
    return InputError(f"{source}: malformed CSV ({_first_line(exc, 160)})")


def _read_csv(text: str, source: str) -> pd.DataFrame:
    if not text.strip():
        return pd.DataFrame({"text": pd.Series([], dtype=object)})
    try:
        sample = text[:CSV_SNIFF_CHARS]
        delimiter = sniff_delimiter(sample, cut=len(sample) < len(text))
        return pd.read_csv(io.StringIO(text), sep=delimiter, **CSV_OPTIONS)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise malformed_csv(source, exc) from None


def find_text_column(frame: pd.DataFrame, wanted: str | None = None, source: str = "input") -> str:
    if wanted:
        if wanted not in frame.columns:
            raise InputError(f"{source}: no column {wanted!r} (columns: {', '.join(map(str, frame.columns))})")
        return wanted
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    for candidate in TEXT_COLUMN_CANDIDATES:
        if candidate in lowered:
            return lowered[candidate]
    raise InputError(
        f"{source}: no text column (expected one of: {', '.join(TEXT_COLUMN_CANDIDATES)}; "
        f"found: {', '.join(map(str, frame.columns)) or 'none'}); use --text-column"
    )


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- writing ----------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(destination: str | Path) -> Iterator[Path]:
    """A temporary path beside ``destination``, moved over it only on success."""
    destination = Path(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
        os.close(fd)
    except OSError as exc:
        raise StorageError(f"cannot write in {destination.parent}: {exc.strerror or exc}") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, destination)
    except OSError as exc:
        # Full disk, read-only or vanished folder: the destination is left as it was.
        raise StorageError(f"cannot write {destination}: {exc.strerror or exc}") from None
    finally:
        try:
            tmp_path.unlink(missing_ok=True)
        except OSError:
            pass


def remove_temp_files(folder: str | Path) -> int:
    """Delete the hidden temporary files a killed writer left under ``folder``.

    Call only while holding the lock of the run that writes there: a live writer's
    temporary file looks the same."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def write_text_atomic(destination: str | Path, content: str) -> Path:
    with atomic_path(destination) as tmp:
        tmp.write_text(content, encoding="utf-8")
    return Path(destination)


def write_table(frame: pd.DataFrame, path: str | Path, fmt: str | None = None) -> None:
    """Write a frame as CSV / JSONL / Parquet / txt; ``-`` writes to stdout."""
    with TableWriter(path, fmt) as writer:
        writer.write(frame)


class TableWriter:
    """Write a table part by part: a file (atomically, when closed without error) or
    stdout (``-``). Parts must share their columns."""

    def __init__(self, path: str | Path, fmt: str | None = None):
        self.path = str(path)
        self.fmt = detect_format(path, fmt) if self.path != "-" else (fmt or "jsonl")
        self._atomic = None
        self._handle = None
        self._parquet = None
        self._wrote_header = False

    def __enter__(self):
        if self.path != "-":
            self._atomic = atomic_path(self.path)
            self._tmp = self._atomic.__enter__()
            if self.fmt != "parquet":
                self._handle = open(self._tmp, "wb")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.path == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(self._bytes(frame))
            sys.stdout.buffer.flush()
            return
        try:
            if self.fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(frame, preserve_index=False)
                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(str(self._tmp), table.schema)
                self._parquet.write_table(table.cast(self._parquet.schema))
            else:
                self._handle.write(self._bytes(frame))
        except OSError as exc:
            raise StorageError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _bytes(self, frame: pd.DataFrame) -> bytes:
        if self.fmt == "csv" and self._wrote_header:
            return frame.to_csv(index=False, header=False).encode("utf-8")
        self._wrote_header = True
        return _serialise(frame, self.fmt)

    def __exit__(self, kind, value, traceback):
        if self.path == "-":
            return False
        try:
            if self._parquet is not None:
                self._parquet.close()
            if self._handle is not None:
                self._handle.close()
        except OSError as exc:
            value = value or StorageError(f"cannot write {self.path}: {exc.strerror or exc}")
            kind = type(value)
        # On error the temporary file is removed and the destination left as it was.
        return bool(self._atomic.__exit__(kind, value, traceback))


# Valid inside JSON strings, but line breaks to many readers (Python's splitlines
# among them): escaped, so that one record is always exactly one line.
_UNICODE_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _jsonl_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, default=str).translate(_UNICODE_LINE_BREAKS) + "\n"


def _serialise(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "jsonl":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return "".join(_jsonl_line(r) for r in records).encode("utf-8")
    if fmt == "txt":
        columns = [c for c in ("id", "sector", "root_cause", "urgency") if c in frame.columns]
        return frame[columns].astype(str).agg("\t".join, axis=1).str.cat(sep="\n").encode("utf-8") + b"\n"
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise InputError(f"unknown output format {fmt!r}")
