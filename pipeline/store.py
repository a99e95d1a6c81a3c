"""The predictions store: which complaints still need scoring, and writing results.

``predictions/<model_version>/part-<chunk hash>.parquet``. A part is written
atomically (a hidden temporary file, then rename), so a killed run leaves only
hidden ``.part-*.tmp`` debris, which readers ignore and the next run removes.
What is pending is always recomputed from disk (stored complaints minus scored
ones), so a re-run finishes the work and never duplicates it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import pandas as pd

from .config import Settings
from .io import atomic_path, remove_temp_files


def predictions_dir(settings: Settings, model_version: str) -> Path:
    return settings.paths.predictions / model_version


def _parquet_files(root: Path, pattern: str) -> list[str]:
    return sorted(str(p) for p in root.glob(pattern)) if root.is_dir() else []


def read_complaints(settings: Settings, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow.dataset as ds

    files = _parquet_files(settings.paths.complaints, "ingest_date=*/part-*.parquet")
    if not files:
        return pd.DataFrame(columns=columns or ["complaint_id"])
    # The fixed schema, not the first file's: parts written before a column existed
    # (rating) read as nulls in that column instead of failing.
    import pyarrow as pa

    from .schema import complaint_arrow_schema

    schema = complaint_arrow_schema().append(pa.field("ingest_date", pa.string()))
    dataset = ds.dataset(files, format="parquet", schema=schema,
                         partitioning=ds.partitioning(pa.schema([("ingest_date", pa.string())]), flavor="hive"),
                         partition_base_dir=str(settings.paths.complaints))
    return dataset.to_table(columns=columns).to_pandas()


def scored_ids(settings: Settings, model_version: str) -> set[str]:
    import pyarrow.dataset as ds

    files = _parquet_files(predictions_dir(settings, model_version), "part-*.parquet")
    if not files:
        return set()
    return set(ds.dataset(files, format="parquet").to_table(columns=["complaint_id"]).column(0).to_pylist())


def read_predictions(settings: Settings, model_version: str) -> pd.DataFrame:
    files = _parquet_files(predictions_dir(settings, model_version), "part-*.parquet")
    if not files:
        return pd.DataFrame(columns=["complaint_id"])
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def pending(settings: Settings, model_version: str) -> pd.DataFrame:
    """Stored complaints without a prediction for this model version (id, text, channel, rating)."""
    complaints = read_complaints(settings, ["complaint_id", "text", "channel", "rating"])
    done = scored_ids(settings, model_version)
    return complaints[~complaints["complaint_id"].isin(done)].sort_values("complaint_id").reset_index(drop=True)


def chunks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size]


def chunk_name(ids: list[str]) -> str:
    """Same complaints, same part name: rewriting a chunk replaces it, never adds to it."""
    return "part-" + hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()[:20] + ".parquet"


def write_predictions(settings: Settings, model_version: str, predictions: pd.DataFrame) -> Path:
    frame = predictions.rename(columns={"id": "complaint_id"})
    frame["scored_at"] = pd.Timestamp.now(tz="UTC")
    destination = predictions_dir(settings, model_version) / chunk_name(frame["complaint_id"].tolist())
    with atomic_path(destination) as tmp:
        frame.to_parquet(tmp, index=False)
    return destination


def remove_debris(settings: Settings, model_version: str) -> int:
    """Delete temporary files left by a killed run (call only while holding the score lock)."""
    return remove_temp_files(predictions_dir(settings, model_version))
