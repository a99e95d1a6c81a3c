"""Batch scoring of an input table: one output row per input row, always.

Rows that cannot be scored (empty text, a broken JSONL line, binary junk) are kept
with empty labels, a flag saying why, and ``needs_review`` set.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

import pandas as pd

from .io import find_text_column
from .schema import PREDICTION_COLUMNS, PREDICTION_DETAIL_COLUMNS

OUTPUT_COLUMNS = PREDICTION_COLUMNS + PREDICTION_DETAIL_COLUMNS


def prepare_input(frame: pd.DataFrame, text_column: str | None = None, id_column: str = "id",
                  source: str = "input", first_row: int = 0,
                  id_counts: dict | None = None) -> tuple[list[str], list[str], list[list[str]]]:
    """Ids (kept, or generated from the row number), texts, and per-row flags.

    For a file read in parts: ``first_row`` is the number of rows before this part (so
    generated ids stay the file's row numbers) and ``id_counts`` counts every id of the
    whole file (so an id repeated in another part is still flagged ``duplicate_id``).
    """
    n = len(frame)
    parse_errors = frame["_parse_error"] if "_parse_error" in frame.columns else pd.Series([None] * n)
    usable = frame.drop(columns=["_parse_error"], errors="ignore")
    column = find_text_column(usable, text_column, source) if n or text_column else None
    texts = ["" if column is None or pd.isna(v) else str(v) for v in (usable[column] if column else [])]
    if id_column in usable.columns:
        ids = [_input_id(v, first_row + i + 1) for i, v in enumerate(usable[id_column])]
    else:
        ids = [str(first_row + i + 1) for i in range(n)]
    flags: list[list[str]] = [[] for _ in range(n)]
    for i, error in enumerate(parse_errors):
        if isinstance(error, str) and error:
            flags[i].append("parse_error")
            texts[i] = ""
    seen = id_counts if id_counts is not None else Counter(ids)
    for i, identifier in enumerate(ids):
        if seen.get(identifier, 0) > 1:
            flags[i].append("duplicate_id")
    return ids, texts, flags


def _input_id(value, row_number: int) -> str:
    if pd.isna(value) or not str(value).strip():
        return f"row-{row_number}"
    # An integer id column with gaps reaches pandas as floats (7 -> 7.0): the id is 7,
    # whichever part of a file it is read in.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def count_input_ids(values) -> Counter:
    """Every id of a file, as ``prepare_input`` will read them (for ``id_counts``)."""
    return Counter(_input_id(v, i + 1) for i, v in enumerate(values))


def score_texts(model, ids: list[str], texts: list[str], extra_flags: list[list[str]] | None = None,
                chunk_size: int = 2000, progress: Callable[[int], None] | None = None,
                context: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score in chunks (bounded memory); ``progress`` is called with rows done per chunk.

    ``context``: the rows' channel and rating (:mod:`pipeline.context`), aligned with ``texts``."""
    parts = []
    for start in range(0, len(texts), chunk_size):
        part_context = None if context is None else context.iloc[start:start + chunk_size]
        part = model.predict_frame(texts[start:start + chunk_size], ids[start:start + chunk_size], part_context)
        parts.append(part)
        if progress:
            progress(len(part))
    result = pd.concat(parts, ignore_index=True) if parts else model.predict_frame([], [])
    if extra_flags:
        _merge_flags(result, extra_flags)
    return result[list(OUTPUT_COLUMNS)]


def _merge_flags(result: pd.DataFrame, extra: list[list[str]]) -> None:
    for i, more in enumerate(extra):
        if not more:
            continue
        current = [f for f in str(result.at[i, "flags"] or "").split(";") if f]
        result.at[i, "flags"] = ";".join(dict.fromkeys(current + more))
        if "parse_error" in more:
            reasons = [r for r in str(result.at[i, "review_reasons"] or "").split(";") if r and r != "input:empty_text"]
            result.at[i, "review_reasons"] = ";".join(reasons + ["input:parse_error"])
            result.at[i, "needs_review"] = True


# -- scoring a file (complaints predict --input) --------------------------------------------
def score_file(model, source: str, destination: str, chunk_size: int, *, fmt: str | None = None,
               out_format: str | None = None, text_column: str | None = None, id_column: str = "id",
               progress: Callable[[int], object] | None = None,
               on_total: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Score a file of any input format into another, a chunk at a time, so memory
    stays flat whatever its size (1,000,000 rows: BENCHMARKS.md). Returns (rows,
    rows to review). A first pass checks the whole file (a malformed CSV is refused
    before anything is written) and counts its ids, so an id repeated anywhere is
    flagged; ``on_total`` receives the row count it found."""
    from .batches import TableReader
    from .context import context_from_frame
    from .io import TableWriter

    reader = TableReader(source, fmt, chunk_size)
    scan = reader.scan(id_column)
    id_counts = count_input_ids(scan.ids) if scan.ids is not None else None
    scan.ids = None   # the counts are all that is needed: free the list
    if scan.rows or text_column:
        # Refused now, not after part of the output is written.
        find_text_column(pd.DataFrame(columns=[c for c in scan.columns if c != "_parse_error"]),
                         text_column, str(source))
    if on_total:
        on_total(scan.rows)
    rows = flagged = 0
    with TableWriter(destination, out_format) as writer:
        for frame in reader.batches():
            # A JSONL part may lack a key other lines have: the file's columns, always.
            missing = [c for c in scan.columns if c not in frame.columns]
            if missing:
                frame = frame.assign(**{c: None for c in missing})
            where = {"first_row": rows, "id_counts": id_counts}
            ids, texts, flags = prepare_input(frame, text_column, id_column, str(source), **where)
            result = score_texts(model, ids, texts, flags, chunk_size, context=context_from_frame(frame))
            writer.write(result)
            rows += len(result)
            flagged += int(result["needs_review"].sum())
            if progress:
                progress(len(result))
        if rows == 0:
            writer.write(score_texts(model, [], []))   # an empty file still has its columns
    return rows, flagged


# -- scoring the store (used by the score flow, locally or on Dask workers) -----------------
_MODEL_CACHE: dict[str, object] = {}


def cached_model(model_dir):
    """One verified load per process and model folder (workers score many chunks)."""
    from pathlib import Path

    from .registry import load_model

    key = str(Path(model_dir).resolve())
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load_model(model_dir)
    return _MODEL_CACHE[key]


def score_chunk(home, model_dir, ids: list[str], texts: list[str], context: dict | None = None) -> dict:
    """Score one chunk and write its predictions part; returns counts for the run summary.

    ``context``: ``{"channel": [...], "rating": [...]}`` aligned with ``texts`` (plain
    lists: the chunk may travel to a Dask worker)."""
    from .config import load_settings
    from .store import write_predictions

    settings = load_settings(home)
    model = cached_model(model_dir)
    result = score_texts(model, ids, texts, chunk_size=len(ids) or 1,
                         context=pd.DataFrame(context) if context is not None else None)
    part = write_predictions(settings, model.version, result)
    return {"rows": len(result), "needs_review": int(result["needs_review"].sum()), "part": part.name}
