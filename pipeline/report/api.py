"""One call for the CLI and the flows: load, build, write."""
from __future__ import annotations

import logging
from pathlib import Path

from .build import build_report
from .data import load_backlog, load_quality, load_scored
from .periods import as_date
from .render import write_report

log = logging.getLogger(__name__)


def latest_model_version(paths) -> str | None:
    """Most recently written model version folder under the predictions store."""
    root = Path(paths.predictions)
    if not root.is_dir():
        return None
    folders = [p for p in root.iterdir() if p.is_dir() and any(p.rglob("*.parquet"))]
    if not folders:
        return None
    return max(folders, key=lambda p: max(f.stat().st_mtime for f in p.rglob("*.parquet"))).name


def make_report(settings, model_version, start, end, out_dir=None, **filters) -> dict:
    """Load the store, build the report for ``[start, end]`` and write it to ``out_dir``.

    ``settings``: :func:`pipeline.config.load_settings` result. ``model_version``: a
    folder of the predictions store, or ``None``/``"latest"`` for the most recent one.
    ``start``/``end``: dates (``date`` or ``"YYYY-MM-DD"``), inclusive. ``out_dir``:
    default ``<reports>/<start>_<end>``. ``filters``: ``company=``, ``product=``,
    ``channel=`` (a value or a list). Returns ``{name: Path}`` of the written files
    (``html``, ``summary`` and one key per CSV table).
    """
    from pipeline.taxonomy import load_taxonomy

    unknown = set(filters) - {"company", "product", "channel"}
    if unknown:
        raise TypeError(f"unknown report filter(s): {', '.join(sorted(unknown))}")
    filters = {k: v for k, v in filters.items() if v is not None}
    start, end = as_date(start), as_date(end)
    paths = settings.paths
    if model_version in (None, "", "latest"):
        model_version = latest_model_version(paths)
        if model_version is None:
            log.warning("no predictions in %s: the report will be empty", paths.predictions)
            model_version = ""
    settings_report = dict(settings["report"])
    scored = load_scored(paths, model_version, start, end, weeks_of_trend=int(settings_report.get("weeks_of_trend", 8)),
                         **filters)
    backlog = load_backlog(paths, model_version, start, end, **filters)
    quality = load_quality(paths, start, end)
    report = build_report(scored, start=start, end=end, taxonomy=load_taxonomy(), settings_report=settings_report,
                          quality=quality, filters=filters, backlog=backlog)
    out = Path(out_dir) if out_dir else Path(paths.reports) / f"{start.isoformat()}_{end.isoformat()}"
    return write_report(report, out)
