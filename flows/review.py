"""Review flows: export predictions to correct in a spreadsheet, import the corrections.

    python -m flows.review export [--home DIR] [--out FILE.csv] [--limit N] [--sample N]
    python -m flows.review import FILE.csv --reviewer NAME [--home DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows._common import IO_TASK, home_argument, run_cli, settings_for
from pipeline.errors import ModelNotFoundError
from pipeline.registry import current_version
from pipeline.review import build_review_sheet, read_corrections, store_corrections, write_review_sheet
from pipeline.taxonomy import load_taxonomy


@task(**IO_TASK)
def export_sheet(home: str, version: str, out: str, sample: int, limit: int | None = None) -> dict:
    sheet = build_review_sheet(settings_for(home), version, confident_sample=sample, limit=limit)
    write_review_sheet(sheet, Path(out))
    return {"rows": len(sheet), "flagged": int((sheet["review_reasons"] != "échantillon_confiant").sum()), "file": out}


@flow(name="review-export")
def review_export(home: str | None = None, out: str | None = None, sample: int = 20,
                  limit: int | None = None) -> dict:
    """Write the flagged predictions not labelled yet, most informative first (at most
    ``limit``), and a sample of confident ones, to a CSV to correct."""
    settings = settings_for(home)
    version = current_version(settings.paths.models)
    if not version:
        raise ModelNotFoundError("no current model: nothing has been scored yet")
    out = out or str(settings.paths.review / f"a_revoir_{version}.csv")
    result = export_sheet(str(settings.home), version, out, sample, limit)
    get_run_logger().info("%d row(s) to review (%d flagged) -> %s", result["rows"], result["flagged"], out)
    return result


@task(**IO_TASK)
def import_sheet(home: str, path: str, reviewer: str | None) -> dict:
    settings = settings_for(home)
    labels = read_corrections(Path(path), load_taxonomy(), reviewer)
    stored = store_corrections(labels, settings, Path(path).name)
    return {"rows": len(labels), "changed": int(labels["changed"].sum()), "stored": str(stored)}


@flow(name="review-import")
def review_import(path: str, reviewer: str | None = None, home: str | None = None) -> dict:
    """Validate a corrected sheet against the taxonomy and store it in data/raw/labels/."""
    result = import_sheet(str(settings_for(home).home), path, reviewer)
    get_run_logger().info("%d label(s) imported, %d corrected -> %s", result["rows"], result["changed"], result["stored"])
    create_table_artifact(key="review-import", table=[result])
    return result


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.review", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    export = sub.add_parser("export", help="write the CSV to review")
    home_argument(export)
    export.add_argument("--out", help="CSV path (default: data/processed/review/a_revoir_<version>.csv)")
    export.add_argument("--limit", type=int, help="at most this many flagged predictions, the most informative "
                        "first (default: all)")
    export.add_argument("--sample", type=int, default=20, help="confident predictions added as a check")
    imp = sub.add_parser("import", help="import a corrected CSV")
    home_argument(imp)
    imp.add_argument("file")
    imp.add_argument("--reviewer", help="who reviewed (stored with each label)")
    args = parser.parse_args()
    if args.action == "export":
        return review_export(home=args.home, out=args.out, sample=args.sample, limit=args.limit)
    return review_import(path=args.file, reviewer=args.reviewer, home=args.home)


if __name__ == "__main__":
    run_cli(main)
