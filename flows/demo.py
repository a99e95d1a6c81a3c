"""The main job on the bundled sample: ingest -> score -> root-cause report.

    python -m flows.demo [--home demo_home]

Works in its own COMPLAINTS_HOME (recreated at each run, so the demo is repeatable
and the repository's tracked files stay untouched): the sample inbox is copied in,
the repository's current model is used in place.
"""
from __future__ import annotations

import argparse
import os
import shutil
from datetime import timedelta
from pathlib import Path

from flows._common import run_cli
from pipeline.config import REPO_ROOT, load_settings

SAMPLE_INBOX = REPO_ROOT / "data" / "sample" / "inbox"


def prepare_home(home: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
    inbox = home / "data" / "raw" / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    # The demo uses the repository's model folder as is (read-only use).
    (home / "models").symlink_to(load_settings(REPO_ROOT).paths.models.resolve(), target_is_directory=True)
    # The bundled corpus is the retrain flow's base: point at it, don't copy it.
    (home / "complaints.toml").write_text(f'[paths]\ncorpus = "{(REPO_ROOT / "data" / "raw" / "corpus").as_posix()}"\n',
        encoding="utf-8")


def report_period(home: Path):
    """The last four weeks of the sample's received dates."""
    from pipeline.store import read_complaints

    received = read_complaints(load_settings(home), ["received_at"])["received_at"].dropna()
    end = received.max().date()
    return end - timedelta(days=27), end


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=str(REPO_ROOT / "demo_home"))
    home = Path(parser.parse_args().home).resolve()
    prepare_home(home)
    os.environ["COMPLAINTS_HOME"] = str(home)

    from flows.nightly import nightly
    from flows.report import report

    result = nightly(home=str(home))
    start, end = report_period(home)
    files = report(home=str(home), date_from=start.isoformat(), date_to=end.isoformat())
    ingested, scored = result["ingested"], result["scored"]
    return {
        "home": home,
        "ingested": f"{ingested['rows_read']} rows read = {ingested['rows_stored']} stored + "
                    f"{ingested['duplicates']} duplicates + {ingested['quarantined']} quarantined",
        "scored": f"{scored['scored']} complaints with model {scored['model_version']} "
                  f"({scored['needs_review']} to review)",
        "report": files.get("html"),
        "summary": files.get("summary"),
    }


if __name__ == "__main__":
    run_cli(main)
