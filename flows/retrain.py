"""Retrain flow: challenger vs champion on the same held-out rows, promoted only if not worse.

    python -m flows.retrain [--home DIR] [--data FILE ...] [--max-drop 0.02] [--max-critique-drop 0.05]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows._common import home_argument, run_cli, settings_for
from pipeline.retraining import retrain as retrain_models
from pipeline.taxonomy import load_taxonomy


@task
def train_and_compare(home: str, extra: list[str], max_drop: float | None, max_critique_drop: float | None) -> dict:
    settings, files = settings_for(home), [Path(p) for p in extra]
    decision, out, report = retrain_models(settings, load_taxonomy(), files, max_drop, max_critique_drop=max_critique_drop)
    return {"promoted": decision.promote, "challenger": out.name, "model_dir": str(out), "report": report,
            "comparison": decision.rows}


@flow(name="retrain")
def retrain(home: str | None = None, data: list[str] | None = None, max_drop: float | None = None,
            max_critique_drop: float | None = None) -> dict:
    """Train on the corpus + imported corrections (+ `data` files); gate the promotion."""
    result = train_and_compare(str(settings_for(home).home), list(data or []), max_drop, max_critique_drop)
    create_markdown_artifact(key="retrain-comparison", markdown=result["report"],
                             description="Champion vs challenger, macro-F1 per head and critique recall")
    get_run_logger().info("challenger %s %s", result["challenger"], "promoted" if result["promoted"] else "refused")
    return {k: v for k, v in result.items() if k != "report"}


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.retrain", description=retrain.__doc__)
    home_argument(parser)
    parser.add_argument("--data", nargs="*", default=[], help="extra labelled files (CSV, JSONL, Parquet)")
    parser.add_argument("--max-drop", type=float, help="largest macro-F1 drop tolerated on any head")
    parser.add_argument("--max-critique-drop", type=float,
                        help="largest drop of critique recall tolerated on the held-out rows")
    args = parser.parse_args()
    return retrain(home=args.home, data=args.data, max_drop=args.max_drop, max_critique_drop=args.max_critique_drop)


if __name__ == "__main__":
    run_cli(main)
