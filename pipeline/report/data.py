"""Read what the report needs from the Parquet store, and nothing else.

Three loaders, all column-pruned and filtered by pyarrow.dataset before anything
reaches pandas:

* :func:`load_scored` - complaints joined with one model version's predictions,
  for the period *and* the history the report compares it with (previous period
  of equal length, ``weeks_of_trend`` ISO weeks). Each row gets a ``period_date``
  (local Paris date of ``received_at``, else the ingestion date) and the build
  step filters on it.
* :func:`load_backlog` - the few columns the regulatory deadlines need, over the
  whole history (complaints still open at the end of the period may be old).
* :func:`load_quality` - ingestion run statistics and quarantine counts.
"""
from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .periods import REPORT_TZ, as_date, history_start, local_bounds_utc

log = logging.getLogger(__name__)

# Columns read from each store. Anything else stays on disk.
COMPLAINT_READ = ("complaint_id", "text", "received_at", "answered_at", "channel", "company", "product")
PREDICTION_READ = (
    "complaint_id", "sector", "root_cause", "root_cause_proba", "urgency", "urgency_proba",
    "needs_review", "urgency_rule", "model_version", "taxonomy_version", "scored_at",
)
FILTER_COLUMNS = ("company", "product", "channel")
_HIVE = ds.partitioning(pa.schema([("ingest_date", pa.string())]), flavor="hive")


# --------------------------------------------------------------------------- datasets
def _parquet_files(folder: Path) -> list[str]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.rglob("*.parquet") if p.is_file())


def _open(folder: Path, *, hive: bool) -> ds.Dataset | None:
    """A dataset over every Parquet file of ``folder`` with one unified schema.

    Files written at different times may disagree slightly (an all-null column
    typed ``null``, ``timestamp[ns]`` vs ``[us]``): schemas are unified with
    permissive promotion (footers only, no data read).
    """
    files = _parquet_files(folder)
    if not files:
        return None
    schemas = [pq.read_schema(f) for f in files]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    if hive:
        if "ingest_date" in schema.names:
            schema = schema.remove(schema.get_field_index("ingest_date"))
        schema = schema.append(pa.field("ingest_date", pa.string()))
        return ds.dataset(files, schema=schema, format="parquet", partitioning=_HIVE,
                          partition_base_dir=str(folder))
    return ds.dataset(files, schema=schema, format="parquet")


def _ts_scalar(ts: pd.Timestamp, typ: pa.DataType):
    """``ts`` (UTC) as a scalar comparable with a timestamp column of type ``typ``."""
    if typ.tz is None:
        return pa.scalar(ts.tz_convert("UTC").tz_localize(None).to_pydatetime(), type=typ)
    return pa.scalar(ts.to_pydatetime(), type=typ)


def _is_ts(schema: pa.Schema, name: str) -> bool:
    return name in schema.names and pa.types.is_timestamp(schema.field(name).type)


def _values(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _filter_expr(schema: pa.Schema, filters: dict) -> ds.Expression | None:
    expr = None
    for col in FILTER_COLUMNS:
        values = _values(filters.get(col))
        if values is None:
            continue
        if col not in schema.names:
            # Filtering on a column the store does not have: nothing matches.
            return pc.scalar(False)
        term = pc.field(col).isin(pa.array(values, type=pa.string())) if pa.types.is_string(
            schema.field(col).type) or pa.types.is_large_string(schema.field(col).type) \
            else pc.field(col).cast(pa.string()).isin(pa.array(values, type=pa.string()))
        expr = term if expr is None else expr & term
    return expr


def _and(*exprs):
    out = None
    for e in exprs:
        if e is None:
            continue
        out = e if out is None else out & e
    return out


def _read(dataset: ds.Dataset, columns: Iterable[str], expr) -> pa.Table:
    cols = [c for c in columns if c in dataset.schema.names]
    return dataset.to_table(columns=cols, filter=expr)


def _read_predictions(predictions: ds.Dataset, columns, ids: pa.ChunkedArray) -> pa.Table:
    """Predictions of ``ids``. When the version holds many more rows than wanted,
    filter while scanning (less memory); else read all and let the join select."""
    total = predictions.count_rows()
    expr = pc.field("complaint_id").isin(ids.unique()) if total > 3 * max(len(ids), 1) else None
    return _read(predictions, columns, expr)


def _join_unique(left: pa.Table, right: pa.Table, key: str = "complaint_id") -> pa.Table:
    """Inner join on ``key``, unique in ``right``: one hash lookup and one take
    (much faster than a general hash join with large string payloads)."""
    idx = pc.index_in(left.column(key), value_set=right.column(key))
    found = pc.is_valid(idx)
    left, idx = left.filter(found), pc.filter(idx, found)
    taken = right.drop_columns([key]).take(idx)
    for name in taken.column_names:
        if name in left.column_names:
            continue
        left = left.append_column(taken.schema.field(name), taken.column(name))
    return left


def _ensure(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for col in columns:
        if col not in df.columns:
            df[col] = pd.NA
    return df


def _utc(series: pd.Series) -> pd.Series:
    """Any timestamp-ish column as tz-aware UTC (naive values are UTC by contract)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    return pd.to_datetime(series, utc=True, errors="coerce")


# --------------------------------------------------------------------------- period date
def add_period_date(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``period_date`` (naive midnight, Paris local date) and ``date_source``.

    ``received_at`` when known (converted to Europe/Paris), else ``ingest_date``.
    """
    df = df.copy(deep=False)
    _ensure(df, ("received_at", "answered_at", "ingest_date"))
    received = _utc(df["received_at"])
    df["received_at"] = received
    df["answered_at"] = _utc(df["answered_at"])
    local = received.dt.tz_convert(REPORT_TZ).dt.tz_localize(None).dt.normalize()
    ingest = pd.to_datetime(df["ingest_date"].astype("string").str.slice(0, 10),
                            format="%Y-%m-%d", errors="coerce")
    period = local.astype("datetime64[us]").where(received.notna(), ingest.astype("datetime64[us]"))
    df["period_date"] = period
    df["date_source"] = np.where(received.notna(), "received_at", "ingest_date")
    return df


# --------------------------------------------------------------------------- loaders
def load_scored(
    paths,
    model_version: str,
    start,
    end,
    *,
    company=None,
    product=None,
    channel=None,
    weeks_of_trend: int = 8,
) -> pd.DataFrame:
    """Complaints joined with predictions of ``model_version``, period + history.

    Returns every complaint whose ``period_date`` falls in
    ``[history_start(start, end, weeks_of_trend), end]`` (previous period and trend
    weeks included); :func:`pipeline.report.build.build_report` selects the period.
    ``company``/``product``/``channel`` take a value or a list of values.
    An empty store or model version gives an empty frame with the right columns.
    """
    start, end = as_date(start), as_date(end)
    first = history_start(start, end, weeks_of_trend)
    columns = list(COMPLAINT_READ) + ["ingest_date"] + [c for c in PREDICTION_READ if c != "complaint_id"]

    complaints = _open(paths.complaints, hive=True)
    pred_dir = Path(paths.predictions) / str(model_version)
    predictions = _open(pred_dir, hive=False)
    if complaints is None or predictions is None:
        if predictions is None:
            log.warning("no predictions for model version %r in %s", model_version, pred_dir)
        return add_period_date(pd.DataFrame(columns=columns))

    schema = complaints.schema
    lo, hi = local_bounds_utc(first, end)
    # Partition pruning. A complaint is ingested after it is received, so nothing
    # received since `first` sits in an older partition (one day of margin for
    # the UTC/Paris offset).
    prune = pc.field("ingest_date") >= (first - timedelta(days=1)).isoformat()
    no_date_in_range = pc.field("ingest_date") <= end.isoformat()
    if _is_ts(schema, "received_at"):
        typ = schema.field("received_at").type
        received = pc.field("received_at")
        in_range = (received >= _ts_scalar(lo, typ)) & (received < _ts_scalar(hi, typ))
        row_expr = in_range | (received.is_null() & no_date_in_range)
    else:
        row_expr = None  # precise filter in pandas below
    expr = _and(prune, row_expr, _filter_expr(schema, {"company": company, "product": product,
        "channel": channel}))
    table = _read(complaints, list(COMPLAINT_READ) + ["ingest_date"], expr)

    ptable = _read_predictions(predictions, PREDICTION_READ, table.column("complaint_id"))
    if len(ptable) and pc.count_distinct(ptable.column("complaint_id")).as_py() < len(ptable):
        # A complaint scored twice by the same version: keep the latest scoring.
        pdf = ptable.to_pandas()
        if "scored_at" in pdf.columns:
            pdf = pdf.sort_values("scored_at", kind="stable")
        ptable = pa.Table.from_pandas(pdf.drop_duplicates("complaint_id", keep="last"), preserve_index=False)
    df = _join_unique(table, ptable).to_pandas()
    df = _ensure(df, columns)
    df = add_period_date(df)
    keep = (df["period_date"] >= pd.Timestamp(first)) & (df["period_date"] <= pd.Timestamp(end))
    return df.loc[keep].reset_index(drop=True)


def load_backlog(
    paths,
    model_version: str | None,
    start,
    end,
    *,
    company=None,
    product=None,
    channel=None,
) -> pd.DataFrame:
    """Rows the deadline indicators need, over the whole history up to ``end``.

    Complaints with a ``received_at`` before the end of the period that were either
    still unanswered or answered on/after the start of the period. Columns:
    complaint_id, received_at, answered_at, root_cause (from ``model_version`` when
    given, to leave out messages predicted ``hors_sujet``).
    """
    start, end = as_date(start), as_date(end)
    cols = ["complaint_id", "received_at", "answered_at", "root_cause"]
    complaints = _open(paths.complaints, hive=True)
    if complaints is None or not _is_ts(complaints.schema, "received_at"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    schema = complaints.schema
    lo, hi = local_bounds_utc(start, end)
    received = pc.field("received_at")
    expr = received.is_valid() & (received < _ts_scalar(hi, schema.field("received_at").type))
    if _is_ts(schema, "answered_at"):
        answered = pc.field("answered_at")
        expr = expr & (answered.is_null() | (answered >= _ts_scalar(lo, schema.field("answered_at").type)))
    expr = _and(expr, _filter_expr(schema, {"company": company, "product": product, "channel": channel}))
    table = _read(complaints, ["complaint_id", "received_at", "answered_at"], expr)
    df = _ensure(table.to_pandas(), cols[:3])
    df["received_at"] = _utc(df["received_at"])
    df["answered_at"] = _utc(df["answered_at"])
    df["root_cause"] = pd.NA
    if model_version:
        predictions = _open(Path(paths.predictions) / str(model_version), hive=False)
        if predictions is not None and "root_cause" in predictions.schema.names and len(df):
            ptable = _read_predictions(predictions, ["complaint_id", "root_cause"], table.column("complaint_id"))
            idx = pc.index_in(table.column("complaint_id"), value_set=ptable.column("complaint_id"))
            df["root_cause"] = ptable.column("root_cause").take(idx).to_pandas()
    return df[cols]


def _run_day(run: dict) -> date | None:
    for key in ("started_at", "finished_at"):
        value = run.get(key)
        if value:
            try:
                ts = pd.Timestamp(value)
            except (ValueError, TypeError):
                continue
            if ts.tzinfo is None:
                ts = ts.tz_localize("UTC")
            return ts.tz_convert(REPORT_TZ).date()
    return None


def load_quality(paths, start, end) -> dict:
    """Ingestion quality of the runs that happened during ``[start, end]``.

    Returns ``{"runs", "rows_read", "rows_stored", "duplicates", "quarantined",
    "quarantine_by_reason": {reason: n}, "unreadable_run_files"}``. Runs are
    dated by ``started_at`` (Paris date); quarantine rows by their ``ingest_date``
    partition. Quarantine reasons come from the quarantine files; when there are
    none, ``quarantined`` still reports the run statistics.
    """
    start, end = as_date(start), as_date(end)
    out = {"runs": 0, "rows_read": 0, "rows_stored": 0, "duplicates": 0, "quarantined": 0,
           "quarantine_by_reason": {}, "unreadable_run_files": 0}
    runs_dir = Path(paths.runs)
    if runs_dir.is_dir():
        for path in sorted(runs_dir.glob("*.json")):
            try:
                run = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out["unreadable_run_files"] += 1
                continue
            day = _run_day(run) if isinstance(run, dict) else None
            if day is None or not (start <= day <= end):
                continue
            out["runs"] += 1
            for key in ("rows_read", "rows_stored", "duplicates", "quarantined"):
                try:
                    out[key] += int(run.get(key) or 0)
                except (TypeError, ValueError):
                    pass
    quarantine = _open(paths.quarantine, hive=True)
    if quarantine is not None and "reason" in quarantine.schema.names:
        expr = (pc.field("ingest_date") >= start.isoformat()) & (pc.field("ingest_date") <= end.isoformat())
        reasons = quarantine.to_table(columns=["reason"], filter=expr).column("reason")
        if len(reasons):
            counts = pc.value_counts(reasons.cast(pa.string()).fill_null("inconnue"))
            by_reason = {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}
            out["quarantine_by_reason"] = dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
            out["quarantined"] = max(out["quarantined"], sum(by_reason.values()))
    return out
