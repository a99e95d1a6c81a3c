"""Ingest flow: new files in the inbox -> masked, deduplicated rows in the store.

    python -m flows.ingest [--home DIR] [--names rules|ner]
"""
from __future__ import annotations

import argparse
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows._common import IO_TASK, home_argument, run_cli, settings_for
from pipeline.ingest import ingest_file, ingest_session, summarise


@task(**IO_TASK)
def ingest_one(path: str, home: str, names: str | None) -> dict:
    from pathlib import Path

    return ingest_file(Path(path), settings_for(home), names=names).as_dict()


@flow(name="ingest", log_prints=False)
def ingest(home: str | None = None, names: str | None = None) -> dict:
    """Read every inbox file; store usable rows, quarantine the rest, archive the file."""
    import time

    logger = get_run_logger()
    settings = settings_for(home)
    started = time.perf_counter()
    with ingest_session(settings) as (files, purged):
        if purged:
            logger.info("raw-text retention: %d day(s) of unmasked texts deleted", purged)
        logger.info("%d file(s) in %s", len(files), settings.paths.inbox)
        reports = [ingest_one(str(path), str(settings.home), names) for path in files]
    for r in reports:
        level = logger.info if r["conserved"] and not r["rejected"] else logger.warning
        level("%s: read %d = stored %d + duplicates %d + quarantined %d%s", r["source_file"], r["rows_read"],
              r["rows_stored"], r["duplicates"], r["quarantined"], f" (rejected: {r['rejected']})" if r["rejected"] else "")
    summary = summarise(reports)
    seconds = time.perf_counter() - started
    summary["seconds"] = round(seconds, 2)
    summary["docs_per_s"] = round(summary["rows_read"] / seconds, 1) if seconds else 0.0
    logger.info("conservation %s: %s", "holds" if summary["conserved"] else "BROKEN", summary)
    create_table_artifact(
        key="ingest-summary",
        table=[{k: r[k] for k in ("source_file", "rows_read", "rows_stored", "duplicates", "quarantined")} for r in reports]
        + [{"source_file": "TOTAL", **{k: summary[k] for k in ("rows_read", "rows_stored", "duplicates", "quarantined")}}],
        description=f"Ingestion: {summary['files']} file(s), {summary['seconds']} s, {summary['docs_per_s']} docs/s",
    )
    return summary


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.ingest", description=ingest.__doc__)
    home_argument(parser)
    parser.add_argument("--names", choices=["rules", "ner"], help="person-name masking (default from settings)")
    args = parser.parse_args()
    return ingest(home=args.home, names=args.names)


if __name__ == "__main__":
    run_cli(main)
