"""Nightly flow: ingest the inbox, then score what is new.

    python -m flows.nightly [--home DIR]
"""
from __future__ import annotations

import argparse

from prefect import flow

from flows._common import home_argument, run_cli
from flows.ingest import ingest
from flows.score import score


@flow(name="nightly")
def nightly(home: str | None = None) -> dict:
    """ingest -> score."""
    ingested = ingest(home=home)
    scored = score(home=home)
    return {"ingested": ingested, "scored": scored}


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.nightly", description=nightly.__doc__)
    home_argument(parser)
    return nightly(home=parser.parse_args().home)


if __name__ == "__main__":
    run_cli(main)
