"""Ingestion: files dropped in the inbox become masked, deduplicated rows in the store.

For each input file, in order:
1. read it (CSV / JSONL / Parquet / .txt, any usual encoding);
2. validate each row: unusable rows go to quarantine with a reason;
3. normalise, drop duplicates (same id or same normalised text, within the file or
   already stored);
4. mask personal data;
5. write ``complaints/ingest_date=…/part-<file hash>.parquet`` and the quarantine part,
   atomically, then the run statistics, then move the file to the archive.

Part names derive from the input file's SHA-256, so a run killed anywhere and
started again rewrites the same parts instead of adding new ones: nothing is
duplicated, nothing lost. Conservation holds per file and is recorded:
``rows_read = rows_stored + duplicates + quarantined``.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .config import Settings
from .errors import InputError, StorageError
from .io import (atomic_path, detect_format, find_text_column, read_table, remove_temp_files, sha256_file,
                 write_text_atomic)
from .locking import exclusive
from .context import context_from_frame
from .schema import COMPLAINT_COLUMNS, QUARANTINE_COLUMNS, complaint_arrow_schema
from .textcheck import input_flags

SUPPORTED_SUFFIXES = {".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".txt", ".text"}
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_URL_ONLY = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.I)
_PLACEHOLDER_WORDS = {"test", "essai", "azerty", "qwerty", "asdf", "lorem", "ipsum", "xxx"}


@dataclass
class FileReport:
    """What happened to one input file: the conservation numbers and where it went."""

    source_file: str
    file_sha256: str
    rows_read: int = 0
    rows_stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    dates_unparsed: int = 0
    rejected: str | None = None          # the whole file could not be read
    quarantine_reasons: dict = field(default_factory=dict)

    @property
    def conserved(self) -> bool:
        return self.rows_read == self.rows_stored + self.duplicates + self.quarantined

    def as_dict(self) -> dict:
        return {**asdict(self), "conserved": self.conserved}


def inbox_files(settings: Settings) -> list[Path]:
    inbox = settings.paths.inbox
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                  and not p.name.startswith("."))


def normalise_text(text: str) -> str:
    """NFC, unified apostrophes, trimmed lines, no runs of blank space."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u00a0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def text_hash(text: str) -> str:
    key = re.sub(r"\W+", " ", text.lower()).strip()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _quarantine_reason(raw, parse_error) -> str | None:
    if isinstance(parse_error, str) and parse_error:
        return "invalid_json"
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or not str(raw).strip():
        return "empty_text"
    text = str(raw)
    flags = input_flags(text)
    if "binary" in flags:
        return "binary_text"
    words = _LETTERS.findall(text)
    if _URL_ONLY.match(text) or not words or (len(words) <= 2 and all(w.lower() in _PLACEHOLDER_WORDS for w in words)):
        return "no_content"
    return None


def _parse_dates(values: pd.Series) -> tuple[pd.Series, int]:
    """UTC timestamps; an unparseable date becomes null (the row is kept) and is counted."""
    present = values.notna() & (values.astype(str).str.strip() != "")
    parsed = pd.to_datetime(values.where(present), errors="coerce", utc=True, format="mixed")
    return parsed, int((present & parsed.isna()).sum())


def validate(frame: pd.DataFrame, source: str, ingested_at: datetime) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split a raw frame into usable rows (store schema, unmasked) and quarantined rows."""
    n = len(frame)
    parse_errors = frame["_parse_error"] if "_parse_error" in frame.columns else pd.Series([None] * n, index=frame.index)
    try:
        text_col = find_text_column(frame.drop(columns=["_parse_error"], errors="ignore"), None, source)
        texts = frame[text_col]
    except InputError:
        texts = pd.Series([None] * n, index=frame.index)
        parse_errors = parse_errors.where(parse_errors.notna(), "missing_text_column")
    reasons = [
        "missing_text_column" if pe == "missing_text_column" else _quarantine_reason(t, pe)
        for t, pe in zip(texts, parse_errors)
    ]
    reasons = pd.Series(reasons, index=frame.index, dtype=object)
    good = frame[reasons.isna()]
    bad = frame[reasons.notna()]

    def column(name):
        return good[name].where(good[name].notna(), None) if name in good.columns else pd.Series([None] * len(good), index=good.index)

    clean_texts = [normalise_text(str(t)) for t in texts[reasons.isna()]]
    received, bad_received = _parse_dates(column("received_at"))
    answered, bad_answered = _parse_dates(column("answered_at"))
    stored = pd.DataFrame({
        "complaint_id": [str(i).strip() if i is not None and str(i).strip() else None for i in column("id")],
        "text": clean_texts,
        "text_hash": [text_hash(t) for t in clean_texts],
        "received_at": received.to_numpy(),
        "answered_at": answered.to_numpy(),
        "channel": column("channel").astype(object).to_numpy(),
        "company": column("company").astype(object).to_numpy(),
        "product": column("product").astype(object).to_numpy(),
        "rating": context_from_frame(good)["rating"].to_numpy(),
        "source_file": source,
        "ingested_at": pd.Timestamp(ingested_at),
        "row_number": (good.index + 1).to_numpy(),
    })
    # A row without an id gets one from its text: the same text always gets the same id.
    missing = stored["complaint_id"].isna()
    stored.loc[missing, "complaint_id"] = ["auto-" + h[:16] for h in stored.loc[missing, "text_hash"]]
    quarantine = pd.DataFrame({
        "source_file": source,
        "row_number": (bad.index + 1).to_numpy(),
        "reason": reasons[reasons.notna()].to_numpy(),
        "complaint_id": [str(i) if i is not None and not pd.isna(i) else None
                         for i in (bad["id"] if "id" in bad.columns else [None] * len(bad))],
        "text_masked": [None if t is None or pd.isna(t) else str(t)[:2000] for t in texts[reasons.notna()]],
        "ingested_at": pd.Timestamp(ingested_at),
    })
    return stored, quarantine, bad_received + bad_answered


def stored_keys(settings: Settings, exclude_part: str | None = None) -> tuple[set, set]:
    """Ids and text hashes already in the store (to drop duplicates across runs)."""
    import pyarrow.dataset as ds

    root = settings.paths.complaints
    if not root.is_dir():
        return set(), set()
    files = [str(p) for p in root.glob("ingest_date=*/part-*.parquet") if p.name != exclude_part]
    if not files:
        return set(), set()
    table = ds.dataset(files, format="parquet").to_table(columns=["complaint_id", "text_hash"])
    return set(table.column("complaint_id").to_pylist()), set(table.column("text_hash").to_pylist())


def drop_duplicates(stored: pd.DataFrame, known_ids: set, known_hashes: set) -> tuple[pd.DataFrame, int]:
    seen_ids, seen_hashes, keep = set(known_ids), set(known_hashes), []
    for cid, h in zip(stored["complaint_id"], stored["text_hash"]):
        duplicate = cid in seen_ids or h in seen_hashes
        keep.append(not duplicate)
        seen_ids.add(cid)
        seen_hashes.add(h)
    # A boolean array, not a list: an empty list would select no *columns*.
    kept = stored[np.asarray(keep, dtype=bool)]
    return kept, int(len(stored) - len(kept))


def ingest_file(path: Path, settings: Settings, *, names: str | None = None,
                now: datetime | None = None) -> FileReport:
    """Ingest one inbox file end to end (see the module docstring for the order)."""
    from .privacy import mask_texts

    now = now or datetime.now(timezone.utc)
    day = now.strftime("%Y-%m-%d")
    paths = settings.paths
    digest = sha256_file(path)
    part = f"part-{digest[:20]}.parquet"
    # A run killed after writing this file's part and restarted on another day must
    # rewrite the same part, not add a second one under the new date.
    earlier = sorted(paths.complaints.glob(f"ingest_date=*/{part}")) if paths.complaints.is_dir() else []
    if earlier:
        day = earlier[0].parent.name.split("=", 1)[1]
    report = FileReport(source_file=path.name, file_sha256=digest)
    try:
        detect_format(path)
        frame = read_table(path).reset_index(drop=True)
    except InputError as exc:
        report.rejected = str(exc)
        _finish(path, report, settings, day, rejected=True)
        return report
    report.rows_read = len(frame)
    stored, quarantine, report.dates_unparsed = validate(frame, path.name, now)
    # Run statistics are written once a file is fully stored. Without them, this is a
    # restart after a crash: this file's own part (if any) is ours to rewrite. With
    # them, the same file was dropped again: every row is a duplicate.
    finished_before = (paths.runs / f"{digest[:20]}.json").exists()
    known_ids, known_hashes = stored_keys(settings, exclude_part=None if finished_before else part)
    stored, report.duplicates = drop_duplicates(stored, known_ids, known_hashes)
    stored = stored.drop(columns=["row_number"])
    if settings["privacy"]["keep_raw_text"] and len(stored):
        _write_parquet(stored[["complaint_id", "text"]].rename(columns={"text": "text_raw"}),
                       paths.raw_texts / f"ingest_date={day}" / part)
    stored["text"] = mask_texts(stored["text"].tolist(), names=names or settings["privacy"].get("names", "rules"))
    raw_bad = [t if isinstance(t, str) else "" for t in quarantine["text_masked"]]
    quarantine["text_masked"] = [m or None for m in mask_texts(raw_bad, names="rules")]
    report.rows_stored, report.quarantined = len(stored), len(quarantine)
    report.quarantine_reasons = quarantine["reason"].value_counts().to_dict()
    if len(stored):
        _write_parquet(stored[list(c for c in COMPLAINT_COLUMNS if c != "ingest_date")],
                       paths.complaints / f"ingest_date={day}" / part, complaint_arrow_schema())
    if len(quarantine):
        _write_parquet(quarantine[list(QUARANTINE_COLUMNS)], paths.quarantine / f"ingest_date={day}" / part)
    _finish(path, report, settings, day, redrop=finished_before)
    return report


def _write_parquet(frame: pd.DataFrame, destination: Path, schema=None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = frame.copy()
    for column in ("received_at", "answered_at", "ingested_at"):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    with atomic_path(destination) as tmp:
        pq.write_table(table, tmp)


def _finish(path: Path, report: FileReport, settings: Settings, day: str, rejected: bool = False,
            redrop: bool = False) -> None:
    """Record the statistics, then move the input out of the inbox (last: crash-safe)."""
    finished = datetime.now(timezone.utc)
    stats = {**report.as_dict(), "ingest_date": day, "finished_at": finished.isoformat(timespec="seconds")}
    name = report.file_sha256[:20] + (f"-{finished:%Y%m%dT%H%M%S%f}" if redrop else "")
    write_text_atomic(settings.paths.runs / f"{name}.json", json.dumps(stats, ensure_ascii=False, indent=1))
    target_dir = settings.paths.archive / day / ("rejected" if rejected else "")
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            target = target_dir / f"{path.stem}.{report.file_sha256[:8]}{path.suffix}"
        shutil.move(str(path), target)
    except OSError as exc:
        # The input stays in the inbox, unchanged; the next run archives it.
        raise StorageError(f"cannot archive {path.name} into {target_dir}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def ingest_session(settings: Settings) -> Iterator[tuple[list[Path], int]]:
    """The lock every ingest run holds, housekeeping done first, then the inbox files.

    Yields ``(files, purged)``: debris of a killed run is removed and unmasked texts
    past their retention are deleted (``purged`` = day folders removed) before any file
    is read, whichever caller runs the ingestion (library, CLI or flow)."""
    with exclusive(settings.paths.processed / ".ingest.lock"):
        remove_ingest_debris(settings)
        purged = purge_raw_texts(settings)
        yield inbox_files(settings), purged


def ingest_inbox(settings: Settings, *, names: str | None = None) -> list[dict]:
    """Every file of the inbox, one at a time, under a lock (two runs never share a file)."""
    with ingest_session(settings) as (files, _):
        return [ingest_file(path, settings, names=names).as_dict() for path in files if path.exists()]


def purge_raw_texts(settings: Settings, today: datetime | None = None) -> int:
    """Delete unmasked texts past their retention (all of them when keep_raw_text is off)."""
    root = settings.paths.raw_texts
    if not root.is_dir():
        return 0
    privacy = settings["privacy"]
    today = (today or datetime.now(timezone.utc)).date()
    removed = 0
    for folder in root.glob("ingest_date=*"):
        day = datetime.strptime(folder.name.split("=", 1)[1], "%Y-%m-%d").date()
        if not privacy["keep_raw_text"] or (today - day).days > privacy["raw_text_retention_days"]:
            shutil.rmtree(folder)
            removed += 1
    return removed


def remove_ingest_debris(settings: Settings) -> int:
    """Temporary files of a killed ingest (call while holding the ingest lock)."""
    paths = settings.paths
    return sum(remove_temp_files(folder) for folder in (paths.complaints, paths.quarantine, paths.runs, paths.raw_texts))


def summarise(reports: list[dict]) -> dict:
    """Totals over files (``FileReport.as_dict()`` rows): conservation must hold for each."""
    total = {k: sum(r[k] for r in reports) for k in ("rows_read", "rows_stored", "duplicates", "quarantined")}
    total["files"] = len(reports)
    total["files_rejected"] = sum(r["rejected"] is not None for r in reports)
    total["conserved"] = all(r["conserved"] for r in reports)
    return total
