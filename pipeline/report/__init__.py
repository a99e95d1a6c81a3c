"""The root-cause report: scored complaints of a period -> HTML, CSV and Markdown.

    from pipeline.report import make_report
    files = make_report(load_settings(), "v3", "2024-03-01", "2024-03-31", "reports/mars")

Stages, each usable alone: :func:`load_scored` / :func:`load_backlog` /
:func:`load_quality` (read the store), :func:`build_report` (pure, DataFrames in,
:class:`Report` out), :func:`write_report` (files, atomic).
"""
from .api import latest_model_version, make_report
from .build import Report, build_report
from .data import add_period_date, load_backlog, load_quality, load_scored
from .periods import month_bounds, parse_period, previous_period, week_bounds
from .render import render_html, render_summary, write_report

__all__ = [
    "Report", "add_period_date", "build_report", "latest_model_version", "load_backlog", "load_quality",
    "load_scored", "make_report", "month_bounds", "parse_period", "previous_period", "render_html", "render_summary",
    "week_bounds", "write_report",
]
