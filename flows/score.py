"""Score flow: every stored complaint without a prediction for the current model.

    python -m flows.score [--home DIR] [--model DIR] [--chunk-size N]
                          [--runner local|dask] [--workers N] [--dask-address tcp://HOST:8786]

Chunks are mapped over the task runner: threads in this process by default, or a
Dask cluster (a local one with --workers, or an existing scheduler with
--dask-address) when one machine is not enough.
"""
from __future__ import annotations

import argparse
import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows._common import IO_TASK, home_argument, run_cli, settings_for
from pipeline.locking import exclusive
from pipeline.registry import read_card, resolve_model_dir
from pipeline.scoring import score_chunk
from pipeline.store import chunks, pending, predictions_dir, remove_debris


@task(**IO_TASK)
def score_one_chunk(home: str, model_dir: str, ids: list[str], texts: list[str], context: dict) -> dict:
    return score_chunk(home, model_dir, ids, texts, context)


@flow(name="score")
def score(home: str | None = None, model: str | None = None, chunk_size: int | None = None) -> dict:
    """Score pending complaints in chunks; idempotent and safe to re-run after a crash."""
    logger = get_run_logger()
    settings = settings_for(home)
    model_dir = resolve_model_dir(settings.paths.models, model)
    version = read_card(model_dir)["version"]
    size = chunk_size or settings["scoring"]["chunk_size"]
    started = time.perf_counter()
    # Two score runs at once: the second waits here, then finds nothing pending.
    with exclusive(predictions_dir(settings, version) / ".score.lock"):
        debris = remove_debris(settings, version)
        todo = pending(settings, version)
        logger.info("model %s: %d complaint(s) to score in chunks of %d (%d stale temp file(s) removed)",
                    version, len(todo), size, debris)
        parts = list(chunks(todo, size))
        futures = score_one_chunk.map(
            [str(settings.home)] * len(parts), [str(model_dir)] * len(parts),
            [p["complaint_id"].tolist() for p in parts], [p["text"].tolist() for p in parts],
            [{"channel": p["channel"].tolist(), "rating": p["rating"].tolist()} for p in parts],
        ) if parts else []
        results = [f.result() for f in futures]
    seconds = time.perf_counter() - started
    scored = sum(r["rows"] for r in results)
    summary = {"model_version": version, "scored": scored, "chunks": len(results),
               "needs_review": sum(r["needs_review"] for r in results), "seconds": round(seconds, 2),
               "docs_per_s": round(scored / seconds, 1) if seconds and scored else 0.0}
    logger.info("scored %d complaint(s) in %.1f s (%.0f docs/s)", scored, seconds, summary["docs_per_s"])
    create_table_artifact(key="score-summary", table=[summary], description=f"Scoring with model {version}")
    return summary


def task_runner(kind: str, workers: int = 2, address: str | None = None):
    """The runner for ``score.with_options(task_runner=…)``: local threads or Dask."""
    if kind == "local":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ImportError("the Dask runner needs: pip install prefect-dask") from None
    if address:
        return DaskTaskRunner(address=address)
    # Processes, one thread each: scoring is CPU-bound Python, threads would share the GIL.
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
        "dashboard_address": None})


def main() -> dict:
    parser = argparse.ArgumentParser(prog="python -m flows.score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    home_argument(parser)
    parser.add_argument("--model", help="model version folder (default: the current one)")
    parser.add_argument("--chunk-size", type=int, help="complaints per task (default from settings)")
    parser.add_argument("--runner", choices=["local", "dask"], default="local")
    parser.add_argument("--workers", type=int, default=1, help="threads (local) or Dask worker processes")
    parser.add_argument("--dask-address", help="address of an existing Dask scheduler (implies --runner dask)")
    args = parser.parse_args()
    runner = task_runner("dask" if args.dask_address else args.runner, args.workers, args.dask_address)
    return score.with_options(task_runner=runner)(home=args.home, model=args.model, chunk_size=args.chunk_size)


if __name__ == "__main__":
    run_cli(main)
