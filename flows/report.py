"""Report flow: the root-cause report for a period (HTML, CSV tables, Markdown summary).

    python -m flows.report [--home DIR] [--from YYYY-MM-DD --to YYYY-MM-DD | --last-days N]
                           [--company X] [--product X] [--channel X] [--out DIR]
"""
from __future__ import annotations

import argparse
from datetime import date, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows._common import IO_TASK, home_argument, run_cli, settings_for
from pipeline.registry import current_version


@task(**IO_TASK)
def build_and_write(home: str, version: str | None, start: str, end: str, out: str | None, filters: dict) -> dict:
    from pipeline.report import make_report

    paths = make_report(settings_for(home), version, start, end, out, **filters)
    return {name: str(path) for name, path in paths.items()}


@flow(name="report")
def report(home: str | None = None, date_from: str | None = None, date_to: str | None = None,
           last_days: int = 7, out: str | None = None, company: str | None = None,
           product: str | None = None, channel: str | None = None) -> dict:
    """Build the report for [date_from, date_to] (default: the last `last_days` days)."""
    logger = get_run_logger()
    settings = settings_for(home)
    end = date.fromisoformat(date_to) if date_to else date.today()
    start = date.fromisoformat(date_from) if date_from else end - timedelta(days=last_days - 1)
    filters = {k: v for k, v in (("company", company), ("product", product), ("channel", channel)) if v}
    version = current_version(settings.paths.models)
    files = build_and_write(str(settings.home), version, start.isoformat(), end.isoformat(), out, filters)
    logger.info("report %s -> %s", f"{start}..{end}", files.get("html"))
    summary_path = files.get("summary")
    if summary_path:
        from pathlib import Path

        create_markdown_artifact(key="root-cause-report", markdown=Path(summary_path).read_text(encoding="utf-8"),
                                 description=f"Rapport des causes racines {start} → {end}")
    return files


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.report", description=report.__doc__)
    home_argument(parser)
    parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--last-days", type=int, default=7, help="period length when --from is not given")
    parser.add_argument("--out", help="output folder (default: reports/<from>_<to> under the home)")
    for name in ("company", "product", "channel"):
        parser.add_argument(f"--{name}", help=f"only complaints with this {name}")
    args = parser.parse_args()
    return report(home=args.home, date_from=args.date_from, date_to=args.date_to, last_days=args.last_days,
                  out=args.out, company=args.company, product=args.product, channel=args.channel)


if __name__ == "__main__":
    run_cli(main)
