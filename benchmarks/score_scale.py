"""Scale-out benchmark of the score flow: default runner vs Dask (2 local workers).

    python -m benchmarks.score_scale [--rows 200000] [--model DIR] [--chunk-size 5000]

Builds a complaints store of N rows from the real unlabeled pool
(``../shared/data/real/pool.parquet``, repeated with distinct ids; the store is
written directly, skipping ingestion, so that only scoring is timed), then runs the
``score`` flow once per runner in a fresh subprocess with its own store, and reports
docs/s and the peak resident memory of the whole process tree (flow process + Dask
workers, sampled every 0.2 s). Texts are never printed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "real" / "pool.parquet"


def build_store(home: Path, rows: int) -> None:
    from pipeline.config import load_settings
    from pipeline.ingest import text_hash
    from pipeline.schema import complaint_arrow_schema
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = pd.read_parquet(POOL, columns=["text"])["text"].tolist()
    repeated = (texts * (rows // len(texts) + 1))[:rows]
    settings = load_settings(home)
    part_rows = 20_000
    now = pd.Timestamp.now(tz="UTC")
    for start in range(0, rows, part_rows):
        chunk = repeated[start:start + part_rows]
        frame = pd.DataFrame({
            "complaint_id": [f"B-{i:07d}" for i in range(start, start + len(chunk))],
            "text": chunk, "text_hash": [text_hash(f"{i}{t}") for i, t in enumerate(chunk, start)],
            "received_at": now, "answered_at": pd.NaT, "channel": None, "rating": float("nan"), "company": None,
            "product": None,
            "source_file": "bench", "ingested_at": now,
        })
        folder = settings.paths.complaints / "ingest_date=2026-11-22"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(frame, schema=complaint_arrow_schema(), preserve_index=False),
                       folder / f"part-{start:09d}.parquet")


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(home: Path, model: Path, runner: str, chunk_size: int) -> dict:
    args = [sys.executable, "-m", "flows.score", "--home", str(home), "--model", str(model),
            "--chunk-size", str(chunk_size), "--runner", runner, "--workers", "2" if runner == "dask" else "1"]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ps, peak, stop = psutil.Process(proc.pid), [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(ps))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{runner} run failed:\n{output[-3000:]}")
    summary = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in output.splitlines()
               if line.split(": ", 1)[0] in ("scored", "seconds", "docs_per_s")}
    scored = int(summary["scored"])
    return {"runner": runner, "scored": scored, "flow_seconds": float(summary["seconds"]),
            "docs_per_s": round(scored / float(summary["seconds"]), 1), "wall_seconds_incl_startup": round(wall, 1),
            "peak_rss_mb": round(peak[0] / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--model", help="model version folder (default: the repository's current model)")
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "score_scale.json"))
    args = parser.parse_args()
    if not POOL.exists():
        raise SystemExit(f"{POOL} not found: this benchmark needs the shared real pool")
    from pipeline.config import load_settings
    from pipeline.registry import resolve_model_dir

    model = Path(args.model) if args.model else resolve_model_dir(load_settings(REPO).paths.models)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for runner in ("local", "dask"):
            home = Path(tmp) / runner
            build_store(home, args.rows)
            results.append(run(home, model, runner, args.chunk_size))
            print(json.dumps(results[-1]), flush=True)
    local = results[0]["docs_per_s"]
    for r in results:
        r["ratio_vs_local"] = round(r["docs_per_s"] / local, 2)
    record = {"date": time.strftime("%Y-%m-%d"), "rows": args.rows, "chunk_size": args.chunk_size,
              "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
              "model": model.name, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2))
    print("| runner | docs/s | ratio | peak RSS (MB, process tree) | flow s | wall s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['runner']} | {r['docs_per_s']:.0f} | {r['ratio_vs_local']:.2f} | {r['peak_rss_mb']} | "
              f"{r['flow_seconds']:.0f} | {r['wall_seconds_incl_startup']:.0f} |")


if __name__ == "__main__":
    main()
