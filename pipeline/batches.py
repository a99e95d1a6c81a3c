"""Complaint files read a batch of rows at a time, whatever their size.

``complaints predict --input`` scores files larger than memory: CSV, JSONL, text and
Parquet alike. A first pass over the file (:meth:`TableReader.scan`) counts the rows,
collects the column names and the ids, and validates the whole file, so that a
malformed CSV is refused before anything is written and an id repeated anywhere in
the file is flagged wherever it stands. A second pass yields the rows in batches.
Both passes read the file a block at a time; the first keeps the ids (as a Parquet
file's ids are kept), and stdin, which cannot be read twice, is held in memory.

Each batch holds exactly the rows :func:`pipeline.io.read_table` gives for that part
of the file: the same encoding choice (UTF-8, then cp1252, then latin-1, decided over
the whole file), the same line splitting, CSV dialect and JSONL parsing
(``tests/test_batches.py`` checks it on generated files).
"""
from __future__ import annotations

import codecs
import csv
import io
import sys
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Iterator

import pandas as pd

from .io import (CSV_OPTIONS, CSV_SNIFF_CHARS, ENCODINGS, check_not_binary, detect_format, jsonl_frame,
                 malformed_csv, open_parquet, parquet_batches, parquet_from_bytes, sniff_delimiter,
                 unreadable_as_input_error)

_BLOCK = 1 << 20


@dataclass
class TableScan:
    """What the first pass learnt: rows, every column a whole-file read would give (a
    CSV's header even without rows; ``text`` for a blank text file), and the id
    column's values (None when the file has no such column)."""

    rows: int
    columns: list[str]
    ids: list | None


class TableReader:
    """A CSV, JSONL, text or Parquet file (or ``-``, stdin, read once into memory),
    read ``batch_size`` rows at a time."""

    def __init__(self, path: str | Path, fmt: str | None = None, batch_size: int = 5000):
        self.path = str(path)
        self.fmt = detect_format(path, fmt)
        self.batch_size = max(int(batch_size), 1)
        self._stdin: bytes | None = None
        self._stdin_parquet: pd.DataFrame | None = None   # parsed once for both passes
        self._encoding: str | None = None

    # -- the bytes ------------------------------------------------------------------------
    def _open(self) -> BinaryIO:
        if self.path == "-":
            if self._stdin is None:
                self._stdin = sys.stdin.buffer.read()
            return io.BytesIO(self._stdin)
        with unreadable_as_input_error(Path(self.path)):
            return open(self.path, "rb")

    def encoding(self) -> str:
        """The encoding :func:`pipeline.io.decode` would choose for the whole file,
        found by decoding it block by block (nothing kept but the verdict)."""
        if self._encoding is None:
            with self._open() as handle:
                check_not_binary(handle.read(4096), self.path)
                self._encoding = ENCODINGS[-1]
                for candidate in ENCODINGS[:-1]:
                    handle.seek(0)
                    if _decodes(handle, candidate):
                        self._encoding = candidate
                        break
        return self._encoding

    def _text(self, handle: BinaryIO, newline: str) -> io.TextIOWrapper:
        return io.TextIOWrapper(handle, encoding=self.encoding(), newline=newline)

    def _lines(self) -> Iterator[str]:
        """The file's lines as ``str.splitlines`` cuts the whole text: each physical
        line (ended by \\n, \\r or \\r\\n) split again at the other Unicode breaks."""
        with self._open() as handle:
            for physical in self._text(handle, newline=""):
                yield from physical.splitlines()

    # -- the two passes -------------------------------------------------------------------
    def scan(self, id_column: str | None = "id") -> TableScan:
        if self.fmt == "parquet" and self.path != "-":
            # The footer holds the row count and the columns; the ids are one column.
            parquet = open_parquet(self.path)
            names = list(parquet.schema_arrow.names)
            ids = parquet.read(columns=[id_column]).column(0).to_pylist() if id_column in names else None
            return TableScan(parquet.metadata.num_rows, names, ids)
        rows, columns, ids, has_ids = 0, {}, [], False
        for frame in self.batches():
            rows += len(frame)
            columns.update(dict.fromkeys(frame.columns))
            if id_column and id_column in frame.columns:
                has_ids = True
                ids.extend(frame[id_column].tolist())
            else:
                ids.extend([None] * len(frame))
        return TableScan(rows, list(columns) or ["text"], ids if has_ids else None)

    def batches(self) -> Iterator[pd.DataFrame]:
        """Frames of 1 to ``batch_size`` rows, in file order; a CSV header alone gives
        one frame of no rows (its columns), a blank file none."""
        if self.fmt == "parquet":
            if self.path == "-":
                if self._stdin_parquet is None:
                    self._stdin_parquet = parquet_from_bytes(self._open().read(), "-")
                yield from _frames_of(self._stdin_parquet, self.batch_size)
                return
            _, parts = parquet_batches(self.path, self.batch_size)
            yield from parts
        elif self.fmt == "txt":
            lines = self._lines()
            while chunk := list(islice(lines, self.batch_size)):
                yield pd.DataFrame({"text": chunk}, dtype=object)
        elif self.fmt == "jsonl":
            yield from self._jsonl_batches()
        else:
            yield from self._csv_batches()

    def _jsonl_batches(self) -> Iterator[pd.DataFrame]:
        pending: list[tuple[int, str]] = []
        filled = 0
        for number, line in enumerate(self._lines(), 1):
            if not line.strip():
                continue   # no row; the numbering above still counts the line
            pending.append((number, line))
            filled += 1
            if filled == self.batch_size:
                yield jsonl_frame(pending)
                pending, filled = [], 0
        if filled:
            yield jsonl_frame(pending)

    def _csv_batches(self) -> Iterator[pd.DataFrame]:
        with self._open() as handle:
            # Lines end at "\n" only, untranslated: what the CSV parser sees in a whole-file
            # read (a StringIO), so a stray "\r" is refused the same way.
            text = self._text(handle, newline="\n")
            sample = text.read(CSV_SNIFF_CHARS)
            delimiter = sniff_delimiter(sample, cut=bool(text.read(1)))
            text.seek(0)
            try:
                with pd.read_csv(text, sep=delimiter, chunksize=self.batch_size, **CSV_OPTIONS) as parts:
                    rows_seen, columns_only = False, None
                    for part in parts:
                        if len(part):
                            rows_seen = True
                            yield part
                        elif columns_only is None:
                            columns_only = part
                    if not rows_seen and columns_only is not None:
                        yield columns_only   # a header alone: its columns, no rows
            except pd.errors.EmptyDataError:
                return   # blank file: no rows, as a whole-file read gives
            except (pd.errors.ParserError, csv.Error, ValueError) as exc:
                raise malformed_csv(self.path, exc) from None


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _frames_of(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size].reset_index(drop=True)
