"""Speed of the root-cause report on a synthetic store.

    .venv/bin/python -m benchmarks.report_speed --rows 1000000

Writes a synthetic store of N complaints + predictions (13 ISO weeks, unique short
texts) into a temporary folder - in a child process, so that the peak memory
reported is the report's own - then times ``make_report`` (load + build + write
HTML/CSV/Markdown), median of ``--repeat`` runs, for two periods:

* ``month``: the last 4 weeks (about 4/13 of the rows; 8 trend weeks loaded);
* ``all``: the whole store as one custom period (every row in the period).

Prints seconds per stage and the peak RSS of the process.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

END = date(2024, 3, 31)  # a Sunday


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def write_store(home: Path, rows: int, weeks: int, seed: int) -> None:
    from pipeline.config import load_settings
    from pipeline.report import synthetic

    start = END - timedelta(weeks=weeks) + timedelta(days=1)
    df = synthetic.scored_frame(rows, start, END, seed=seed, spike="livraison",
                                spike_from=END - timedelta(days=6), unique_texts=True, model_version="bench")
    synthetic.write_store(df, load_settings(home).paths.processed, model_version="bench")


def run_once(home: Path, start: date, end: date, out: Path) -> dict:
    from pipeline.config import load_settings
    from pipeline.report import build_report, load_backlog, load_quality, load_scored, write_report
    from pipeline.report.excerpts import mask
    from pipeline.taxonomy import load_taxonomy

    mask.cache_clear()
    settings = load_settings(home)
    rep = settings["report"]
    t0 = time.perf_counter()
    scored = load_scored(settings.paths, "bench", start, end, weeks_of_trend=rep["weeks_of_trend"])
    backlog = load_backlog(settings.paths, "bench", start, end)
    quality = load_quality(settings.paths, start, end)
    t1 = time.perf_counter()
    report = build_report(scored, start=start, end=end, taxonomy=load_taxonomy(), settings_report=rep,
                          quality=quality, backlog=backlog)
    t2 = time.perf_counter()
    write_report(report, out)
    t3 = time.perf_counter()
    return {"load": t1 - t0, "build": t2 - t1, "render": t3 - t2, "total": t3 - t0,
            "loaded_rows": len(scored), "period_rows": report.headline["complaints"],
            "urgent_rows": len(report.urgent)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=13, help="weeks of data in the synthetic store")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--periods", default="month,all")
    parser.add_argument("--write-store", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.write_store:
        write_store(Path(args.write_store), args.rows, args.weeks, args.seed)
        return 0

    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        home = Path(tmp)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "benchmarks.report_speed", "--rows", str(args.rows),
                        "--weeks", str(args.weeks), "--seed", str(args.seed), "--write-store", str(home)],
                       check=True)
        print(f"synthetic store: {args.rows:,} rows over {args.weeks} weeks written in "
              f"{time.perf_counter() - t:.1f} s (not timed below)")
        periods = {
            "month": (END - timedelta(weeks=4) + timedelta(days=1), END),
            "all": (END - timedelta(weeks=args.weeks) + timedelta(days=1), END),
        }
        for name in [p.strip() for p in args.periods.split(",") if p.strip()]:
            start, end = periods[name]
            runs = [run_once(home, start, end, home / f"out-{name}-{i}") for i in range(args.repeat)]
            med = {k: statistics.median(r[k] for r in runs) for k in ("load", "build", "render", "total")}
            r0 = runs[0]
            totals = ", ".join(f"{r['total']:.2f}" for r in runs)
            print(f"[{name}] {start} -> {end}: {r0['period_rows']:,} complaints in the period, "
                  f"{r0['loaded_rows']:,} rows loaded, {r0['urgent_rows']:,} urgent cases")
            print(f"[{name}] median of {args.repeat}: total {med['total']:.2f} s "
                  f"(load {med['load']:.2f} s, build {med['build']:.2f} s, render+write {med['render']:.2f} s); "
                  f"all runs: {totals} s")
        print(f"peak RSS of the report process: {_peak_rss_mb():,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
